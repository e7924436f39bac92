import { Arg, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { CampaignContactsService } from '../campaigns/campaign-contacts.service';
import { encodeContactCursor } from '../campaigns/campaign-contacts.service';
import type { CampaignContactRow, ContactFilterName } from '../store/campaign-contacts.store';
import type { CampaignContact } from './campaign-contacts.types';
import { CampaignContactConnection, ContactFilter, ContactStageEnum } from './campaign-contacts.types';
import type { GraphQLContext } from './context';
import { workspaceOf } from './context';

export function contactView(row: CampaignContactRow): CampaignContact {
  return {
    phone: row.phone,
    stage: row.stage as ContactStageEnum,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
    readAt: row.read_at,
    clickedAt: row.clicked_at,
    repliedAt: row.replied_at,
    failedAt: row.failed_at,
    failure: row.failure_code === null ? null : { code: row.failure_code, title: row.failure_title ?? '', count: 1 },
  };
}

export const toFilterName = (filter: ContactFilter): ContactFilterName => filter.toLowerCase() as ContactFilterName;

/** Thin adapter over {@link CampaignContactsService}. */
@Resolver()
export class CampaignContactsResolver {
  constructor(private readonly service: CampaignContactsService) {}

  @Query(() => CampaignContactConnection, {
    description: 'The contacts behind a count, by phone; each filter lists exactly the contacts counted in its field',
  })
  async campaignContacts(
    @Arg('campaignId', () => ID) campaignId: string,
    @Ctx() context: GraphQLContext,
    @Arg('filter', () => ContactFilter, { nullable: true, defaultValue: ContactFilter.ALL })
    filter?: ContactFilter | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50, description: 'at most 500' }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<CampaignContactConnection> {
    const page = await this.service.page(workspaceOf(context), campaignId, {
      filter: toFilterName(filter ?? ContactFilter.ALL),
      first: first ?? 50,
      after: after ?? null,
    });
    const edges = page.rows.map((row) => ({ cursor: encodeContactCursor(row.phone), node: contactView(row) }));
    return {
      edges,
      nodes: edges.map((e) => e.node),
      pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }
}
