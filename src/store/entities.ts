import type { Relation } from 'typeorm';
import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { CampaignStatus } from '../domain/campaign-status';

// TypeORM entities: the persistence shape only. GraphQL types live in src/graphql and never
// carry these decorators. The schema itself is made by the migrations, never by synchronize.

@Entity('workspaces')
export class WorkspaceEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;
}

@Entity('api_keys')
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'workspace_id', type: 'bigint' })
  workspaceId!: string;

  /** `wapl_` and the next 8 characters, kept in clear to name the key */
  @Column({ type: 'text' })
  prefix!: string;

  /** SHA-256 of the whole key, hex */
  @Column({ name: 'key_hash', type: 'char', length: 64, unique: true })
  keyHash!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}

@Entity('campaigns')
export class CampaignEntity {
  @PrimaryColumn({ type: 'char', length: 24 })
  id!: string;

  @Column({ name: 'workspace_id', type: 'bigint' })
  workspaceId!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'text' })
  status!: CampaignStatus;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'scheduled_at', type: 'timestamptz', nullable: true })
  scheduledAt!: Date | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason!: string | null;

  /** its counters row, when loaded with it (every read that shows stats does) */
  @OneToOne(() => CampaignCountersEntity, (counters) => counters.campaign)
  counters?: Relation<CampaignCountersEntity>;
}

/** One row per campaign, moved in the same transaction as the contacts it counts: O(1) reads. */
@Entity('campaign_counters')
export class CampaignCountersEntity {
  @PrimaryColumn({ name: 'campaign_id', type: 'char', length: 24 })
  campaignId!: string;

  @OneToOne(() => CampaignEntity, (campaign) => campaign.counters)
  @JoinColumn({ name: 'campaign_id' })
  campaign?: Relation<CampaignEntity>;

  @Column({ name: 'total_contacts', type: 'integer', default: 0 })
  totalContacts!: number;

  @Column({ type: 'integer', default: 0 })
  touched!: number;

  @Column({ type: 'integer', default: 0 })
  sent!: number;

  @Column({ type: 'integer', default: 0 })
  delivered!: number;

  @Column({ type: 'integer', default: 0 })
  read!: number;

  @Column({ type: 'integer', default: 0 })
  clicked!: number;

  @Column({ type: 'integer', default: 0 })
  replied!: number;

  @Column({ type: 'integer', default: 0 })
  failed!: number;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

@Entity('campaign_contacts')
export class CampaignContactEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'campaign_id', type: 'char', length: 24 })
  campaignId!: string;

  @Column({ type: 'text', collation: 'C' })
  phone!: string;

  /** evidence bit set, see src/domain/delivery-lattice.ts */
  @Column({ type: 'smallint', default: 0 })
  flags!: number;

  @Column({ name: 'first_sent_at', type: 'timestamptz', nullable: true })
  firstSentAt!: Date | null;

  @Column({ name: 'first_delivered_at', type: 'timestamptz', nullable: true })
  firstDeliveredAt!: Date | null;

  @Column({ name: 'first_read_at', type: 'timestamptz', nullable: true })
  firstReadAt!: Date | null;

  @Column({ name: 'first_clicked_at', type: 'timestamptz', nullable: true })
  firstClickedAt!: Date | null;

  @Column({ name: 'first_replied_at', type: 'timestamptz', nullable: true })
  firstRepliedAt!: Date | null;

  @Column({ name: 'first_failed_at', type: 'timestamptz', nullable: true })
  firstFailedAt!: Date | null;

  @Column({ name: 'failure_code', type: 'integer', nullable: true })
  failureCode!: number | null;

  @Column({ name: 'failure_title', type: 'text', nullable: true })
  failureTitle!: string | null;

  @Column({ name: 'failure_at', type: 'timestamptz', nullable: true })
  failureAt!: Date | null;
}

/** WhatsApp message ids (`wamid…`) registered by the dispatcher, one or more per contact. */
@Entity('contact_messages')
export class ContactMessageEntity {
  @PrimaryColumn({ name: 'whatsapp_message_id', type: 'text', collation: 'C' })
  whatsappMessageId!: string;

  @Column({ name: 'contact_id', type: 'bigint' })
  contactId!: string;

  @Column({ name: 'campaign_id', type: 'char', length: 24 })
  campaignId!: string;

  @Column({ name: 'registered_at', type: 'timestamptz', default: () => 'now()' })
  registeredAt!: Date;
}

/** Failed contacts per WhatsApp error code, moved with the counters. */
@Entity('campaign_failure_reasons')
export class CampaignFailureReasonEntity {
  @PrimaryColumn({ name: 'campaign_id', type: 'char', length: 24 })
  campaignId!: string;

  @PrimaryColumn({ type: 'integer' })
  code!: number;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'integer', default: 0 })
  contacts!: number;
}

/** Dispatcher event ids already applied, per workspace, so a resent event is skipped. */
@Entity('ingested_events')
export class IngestedEventEntity {
  @PrimaryColumn({ name: 'workspace_id', type: 'bigint' })
  workspaceId!: string;

  @PrimaryColumn({ name: 'event_id', type: 'text', collation: 'C' })
  eventId!: string;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;
}

/** A WhatsApp fact waiting for its message id to be registered (see the ParkedDeliveries migration). */
@Entity('parked_deliveries')
export class ParkedDeliveryEntity {
  @PrimaryGeneratedColumn('identity', { type: 'bigint', generatedIdentity: 'ALWAYS' })
  id!: string;

  @Column({ name: 'whatsapp_message_id', type: 'text', collation: 'C' })
  whatsappMessageId!: string;

  /** one bit of the evidence set */
  @Column({ type: 'smallint' })
  evidence!: number;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'error_code', type: 'integer', nullable: true })
  errorCode!: number | null;

  @Column({ name: 'error_title', type: 'text', nullable: true })
  errorTitle!: string | null;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt!: Date;
}

export const ENTITIES = [
  ParkedDeliveryEntity,
  WorkspaceEntity,
  ApiKeyEntity,
  CampaignEntity,
  CampaignCountersEntity,
  CampaignContactEntity,
  ContactMessageEntity,
  CampaignFailureReasonEntity,
  IngestedEventEntity,
];
