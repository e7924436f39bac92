import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { CampaignsService } from '../campaigns/campaigns.service';
import { encodeCursor } from '../campaigns/campaigns.service';
import type { CampaignRecord, CampaignStats as StatsValues, FailureReasonCount } from '../domain/campaign-stats';
import { campaignStats } from '../domain/campaign-stats';
import {
  Campaign,
  CampaignConnection,
  CampaignStats,
  CampaignStatusEnum,
  CreateCampaignInput,
  FailureReason,
  TimelineBucket,
  TimelinePoint,
  fromGraphQLStatus,
  toGraphQLStatus,
} from './campaign.types';
import type { GraphQLContext } from './context';
import { workspaceOf } from './context';
import { DateTimeScalar } from './date-time.scalar';

type StatsView = Omit<CampaignStats, 'failureReasons'>;
type CampaignView = Omit<Campaign, 'stats'> & { stats: StatsView };

export function statsView(stats: StatsValues): StatsView {
  return { ...stats, campaignStatus: toGraphQLStatus(stats.campaignStatus) };
}

function campaignView(record: CampaignRecord): CampaignView {
  return {
    id: record.id,
    name: record.name,
    status: toGraphQLStatus(record.status),
    createdAt: record.createdAt,
    scheduledAt: record.scheduledAt,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    stats: statsView(campaignStats(record)),
  };
}

/** Thin adapter: parse arguments, call one service function, shape the answer. */
@Resolver(() => Campaign)
export class CampaignResolver {
  constructor(private readonly service: CampaignsService) {}

  @Query(() => CampaignStats, { description: 'The resolver the REST path maps onto' })
  async campaignStats(
    @Arg('campaignId', () => ID) campaignId: string,
    @Ctx() context: GraphQLContext,
  ): Promise<StatsView> {
    return statsView(await this.service.stats(workspaceOf(context), campaignId));
  }

  @Query(() => Campaign, { nullable: true, description: "null when missing or another workspace's" })
  async campaign(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<CampaignView | null> {
    const record = await this.service.findRecord(workspaceOf(context), id);
    return record ? campaignView(record) : null;
  }

  @Query(() => CampaignConnection, { description: 'Cursor pages, newest first' })
  async campaigns(
    @Ctx() context: GraphQLContext,
    @Arg('status', () => CampaignStatusEnum, { nullable: true }) status?: CampaignStatusEnum | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 20 }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ) {
    const page = await this.service.page(workspaceOf(context), {
      ...(status ? { status: fromGraphQLStatus(status) } : {}),
      first: first ?? 20,
      after: after ?? null,
    });
    const edges = page.records.map((record) => ({ cursor: encodeCursor(record), node: campaignView(record) }));
    return {
      edges,
      nodes: edges.map((edge) => edge.node),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Query(() => [TimelinePoint], {
    description:
      'Per bucket, the contacts first sent, delivered, read, clicked, failed and replied in it (earliest times); buckets with nothing are left out',
  })
  async campaignTimeline(
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('bucket', () => TimelineBucket) bucket: TimelineBucket,
    @Ctx() context: GraphQLContext,
    @Arg('from', () => DateTimeScalar, { nullable: true }) from?: Date | null,
    @Arg('to', () => DateTimeScalar, { nullable: true }) to?: Date | null,
  ): Promise<TimelinePoint[]> {
    return this.service.timeline(workspaceOf(context), campaignId, bucket === TimelineBucket.HOUR ? 'hour' : 'minute', {
      from: from ?? null,
      to: to ?? null,
    });
  }

  @Mutation(() => Campaign)
  async createCampaign(
    @Arg('input', () => CreateCampaignInput) input: CreateCampaignInput,
    @Ctx() context: GraphQLContext,
  ): Promise<CampaignView> {
    return campaignView(
      await this.service.create(workspaceOf(context), {
        name: input.name,
        contacts: input.contacts,
        scheduledAt: input.scheduledAt ?? null,
      }),
    );
  }

  @Mutation(() => Campaign)
  async addCampaignContacts(
    @Arg('campaignId', () => ID) campaignId: string,
    @Arg('contacts', () => [String]) contacts: string[],
    @Ctx() context: GraphQLContext,
  ): Promise<CampaignView> {
    return campaignView(await this.service.addContacts(workspaceOf(context), campaignId, contacts));
  }

  @Mutation(() => Campaign)
  async scheduleCampaign(
    @Arg('id', () => ID) id: string,
    @Arg('at', () => DateTimeScalar) at: Date,
    @Ctx() context: GraphQLContext,
  ): Promise<CampaignView> {
    return campaignView(await this.service.move(workspaceOf(context), id, 'scheduled', { at }));
  }

  @Mutation(() => Campaign)
  async startCampaign(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<CampaignView> {
    return campaignView(await this.service.move(workspaceOf(context), id, 'running'));
  }

  @Mutation(() => Campaign)
  async completeCampaign(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<CampaignView> {
    return campaignView(await this.service.move(workspaceOf(context), id, 'completed'));
  }

  @Mutation(() => Campaign)
  async cancelCampaign(@Arg('id', () => ID) id: string, @Ctx() context: GraphQLContext): Promise<CampaignView> {
    return campaignView(await this.service.move(workspaceOf(context), id, 'cancelled'));
  }

  @Mutation(() => Campaign)
  async failCampaign(
    @Arg('id', () => ID) id: string,
    @Ctx() context: GraphQLContext,
    @Arg('reason', () => String, { nullable: true }) reason?: string | null,
  ): Promise<CampaignView> {
    return campaignView(await this.service.move(workspaceOf(context), id, 'failed', { reason: reason ?? null }));
  }
}

@Resolver(() => CampaignStats)
export class CampaignStatsResolver {
  @FieldResolver(() => [FailureReason])
  failureReasons(@Root() stats: StatsView & { failureReasons?: FailureReasonCount[] }, @Ctx() context: GraphQLContext) {
    // Live pushes carry them, read once for every subscriber; queries load them in one batch.
    return stats.failureReasons ?? context.failureReasons.load(stats.campaignId);
  }
}
