import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { DateTimeScalar } from './date-time.scalar';
import { FailureReason, PageInfo } from './campaign.types';

// GraphQL shapes of the drill-down (docs/graphql.md#campaigncontacts).

export enum ContactFilter {
  ALL = 'ALL',
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  READ = 'READ',
  CLICKED = 'CLICKED',
  REPLIED = 'REPLIED',
  FAILED = 'FAILED',
  PENDING = 'PENDING',
}
registerEnumType(ContactFilter, {
  name: 'ContactFilter',
  description: 'Which contacts to list: each lists exactly the contacts counted in the matching stats field',
});

export enum ContactStageEnum {
  PENDING = 'PENDING',
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  READ = 'READ',
  CLICKED = 'CLICKED',
  REPLIED = 'REPLIED',
  FAILED = 'FAILED',
}
registerEnumType(ContactStageEnum, { name: 'ContactStage', description: 'The furthest stage a contact reached' });

@ObjectType({ description: 'One contact of a campaign; each time is when it first counted in that field' })
export class CampaignContact {
  @Field() phone!: string;
  @Field(() => ContactStageEnum) stage!: ContactStageEnum;
  @Field(() => DateTimeScalar, { nullable: true }) sentAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) deliveredAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) readAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) clickedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) repliedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) failedAt!: Date | null;
  @Field(() => FailureReason, { nullable: true, description: 'while the contact counts as failed (count is 1)' })
  failure!: FailureReason | null;
}

@ObjectType()
export class CampaignContactEdge {
  @Field() cursor!: string;
  @Field(() => CampaignContact) node!: CampaignContact;
}

@ObjectType({ description: 'A page of contacts, by phone number' })
export class CampaignContactConnection {
  @Field(() => [CampaignContactEdge]) edges!: CampaignContactEdge[];
  @Field(() => [CampaignContact]) nodes!: CampaignContact[];
  @Field(() => PageInfo) pageInfo!: PageInfo;
}
