import type { Queryable } from './campaign.store';

/** The PostgreSQL channel that announces campaigns whose stats changed; the payload is the campaign id. */
export const STATS_CHANNEL = 'campaign_stats_changed';

/**
 * Announces changed campaigns from inside the transaction that changed them: PostgreSQL delivers
 * the notifications at commit and drops them on rollback, so listeners never hear of a change
 * that did not happen, nor miss one that did.
 */
export async function notifyStatsChanged(tx: Queryable, campaignIds: readonly string[]): Promise<void> {
  if (campaignIds.length === 0) return;
  await tx.query(`SELECT pg_notify('${STATS_CHANNEL}', id) FROM unnest($1::text[]) AS id`, [campaignIds]);
}

/** Told the ids of campaigns whose numbers moved, after the commit that moved them. */
export type StatsChangedListener = (campaignIds: readonly string[]) => void;
