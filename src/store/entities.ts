import type { Relation } from 'typeorm';
import { Column, Entity, JoinColumn, OneToOne, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';
import type { CampaignStatus } from '../domain/campaign-status';

// TypeORM entities: the persistence shape only. GraphQL types live in src/graphql and never
// carry these decorators. The schema itself is made by the migrations, never by synchronize.
// Only what the code reads or writes through TypeORM is mapped: the contacts, message ids,
// event ids and parked facts are the set-based ingest path's, in plain SQL (delivery.store.ts).

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

export const ENTITIES = [
  WorkspaceEntity,
  ApiKeyEntity,
  CampaignEntity,
  CampaignCountersEntity,
  CampaignFailureReasonEntity,
];
