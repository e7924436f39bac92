import { Arg, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { LiveStats } from '../live/campaign-stats.hub';
import { statsView } from './campaign.resolver';
import { CampaignStats } from './campaign.types';
import type { GraphQLContext } from './context';
import { workspaceOf } from './context';

/** `campaignStatsUpdated`: the stats at once, then on every change (coalesced per push interval). */
@Resolver(() => CampaignStats)
export class CampaignStatsSubscriptionResolver {
  @Subscription(() => CampaignStats, {
    description:
      'The stats at once, then whenever they change: at most once per push interval, the last state always sent',
    subscribe: ({ args, context }) => {
      const ctx = context as GraphQLContext;
      if (!ctx.live) throw new Error('live stats are not available on this transport');
      return ctx.live.subscribe(workspaceOf(ctx), (args as { campaignId: string }).campaignId);
    },
  })
  campaignStatsUpdated(@Root() stats: LiveStats, @Arg('campaignId', () => ID) _campaignId: string) {
    return { ...statsView(stats), failureReasons: stats.failureReasons };
  }
}
