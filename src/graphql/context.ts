import DataLoader from 'dataloader';
import type { Principal } from '../auth/api-keys.service';
import type { CampaignsService } from '../campaigns/campaigns.service';
import type { FailureReasonCount } from '../domain/campaign-stats';
import { unauthenticated } from '../domain/errors';
import type { CampaignStatsHub } from '../live/campaign-stats.hub';

/** What every resolver sees of its request. */
export interface GraphQLContext {
  principal: Principal | null;
  /** per request: failure reasons of every campaign in the response, in one query */
  failureReasons: DataLoader<string, FailureReasonCount[]>;
  /** live stats, on the WebSocket transport */
  live?: CampaignStatsHub;
}

export function createContext(
  principal: Principal | null,
  campaigns: CampaignsService,
  live?: CampaignStatsHub,
): GraphQLContext {
  let loader: DataLoader<string, FailureReasonCount[]> | undefined;
  return {
    principal,
    ...(live ? { live } : {}),
    // Made on first use: a subscription (whose pushes carry their reasons) never needs one.
    get failureReasons() {
      loader ??= new DataLoader((ids: readonly string[]) => campaigns.failureReasons(ids), { cache: true });
      return loader;
    },
  };
}

/** The request's workspace, or UNAUTHENTICATED. */
export function workspaceOf(context: GraphQLContext): string {
  if (!context.principal) throw unauthenticated();
  return context.principal.workspaceId;
}
