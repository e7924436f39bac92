import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { CampaignStatus } from '../domain/campaign-status';
import { DateTimeScalar } from './date-time.scalar';

// GraphQL shapes only (docs/graphql.md). No persistence decorators here.

export enum CampaignStatusEnum {
  DRAFT = 'DRAFT',
  SCHEDULED = 'SCHEDULED',
  RUNNING = 'RUNNING',
  COMPLETED = 'COMPLETED',
  CANCELLED = 'CANCELLED',
  FAILED = 'FAILED',
}
registerEnumType(CampaignStatusEnum, { name: 'CampaignStatus' });

export const toGraphQLStatus = (status: CampaignStatus): CampaignStatusEnum =>
  status.toUpperCase() as CampaignStatusEnum;
export const fromGraphQLStatus = (status: CampaignStatusEnum): CampaignStatus => status.toLowerCase() as CampaignStatus;

@ObjectType({ description: 'Contacts that failed with one WhatsApp error code' })
export class FailureReason {
  @Field(() => Int) code!: number;
  @Field() title!: string;
  @Field(() => Int, { description: 'failed contacts with this code' }) count!: number;
}

@ObjectType({ description: 'Per-contact delivery stats of one campaign; counts are of contacts, never of events' })
export class CampaignStats {
  @Field(() => ID) campaignId!: string;
  @Field() name!: string;
  @Field(() => CampaignStatusEnum) campaignStatus!: CampaignStatusEnum;
  @Field(() => Int) totalContacts!: number;
  @Field(() => Int) sentCount!: number;
  @Field(() => Int) deliveredCount!: number;
  @Field(() => Int) readCount!: number;
  @Field(() => Int) clickedCount!: number;
  @Field(() => Int) failedCount!: number;
  @Field(() => Int) repliedCount!: number;
  @Field(() => Int, { description: 'contacts counted in sentCount and not in failedCount' })
  successCount!: number;
  @Field(() => Int, { description: 'targeted, no outcome yet' }) pendingCount!: number;
  @Field(() => Float, { description: 'delivered / sent (0 when sent is 0)' }) deliveryRate!: number;
  @Field(() => Float, { description: 'read / delivered' }) readRate!: number;
  @Field(() => Float, { description: 'clicked / delivered' }) clickRate!: number;
  @Field(() => Float, { description: 'replied / delivered' }) replyRate!: number;
  @Field(() => Float, { description: 'failed / total' }) failureRate!: number;
  @Field(() => [FailureReason], { description: 'by WhatsApp error code, most frequent first' })
  failureReasons!: FailureReason[];
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) scheduledAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) startedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) completedAt!: Date | null;
  @Field(() => DateTimeScalar, { description: 'when the numbers last changed' }) updatedAt!: Date;
}

@ObjectType()
export class Campaign {
  @Field(() => ID) id!: string;
  @Field() name!: string;
  @Field(() => CampaignStatusEnum) status!: CampaignStatusEnum;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) scheduledAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) startedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) completedAt!: Date | null;
  @Field(() => CampaignStats) stats!: CampaignStats;
}

@ObjectType()
export class CampaignEdge {
  @Field() cursor!: string;
  @Field(() => Campaign) node!: Campaign;
}

@ObjectType()
export class PageInfo {
  @Field() hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

@ObjectType({ description: 'A page of campaigns, newest first' })
export class CampaignConnection {
  @Field(() => [CampaignEdge]) edges!: CampaignEdge[];
  @Field(() => [Campaign]) nodes!: Campaign[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}

@InputType()
export class CreateCampaignInput {
  @Field() name!: string;
  @Field(() => [String], { description: 'E.164 numbers; duplicates are folded into one contact' })
  contacts!: string[];
  @Field(() => DateTimeScalar, { nullable: true, description: 'set: the campaign starts SCHEDULED' })
  scheduledAt?: Date | null;
}

export enum TimelineBucket {
  MINUTE = 'MINUTE',
  HOUR = 'HOUR',
}
registerEnumType(TimelineBucket, { name: 'TimelineBucket' });

@ObjectType({ description: 'Contacts that reached each stage within one time bucket' })
export class TimelinePoint {
  @Field(() => DateTimeScalar, { description: 'start of the bucket' }) at!: Date;
  @Field(() => Int) sent!: number;
  @Field(() => Int) delivered!: number;
  @Field(() => Int) read!: number;
  @Field(() => Int) clicked!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) replied!: number;
}
