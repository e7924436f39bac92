import type { Queryable } from './campaign.store';

/** One accepted event, as auto-start sees it: its campaign and its time. */
export interface AcceptedEvent {
  contact: { campaignId: string };
  fact: { at: Date };
}

/**
 * Auto-start (DESIGN section 2): the first accepted event for a `draft` or `scheduled` campaign
 * moves it to `running`, with `started_at` = the earliest event time of the batch for that
 * campaign. One statement, inside the caller's transaction; campaigns that already ran or ended
 * are left alone (late events still count, and never move a status). Returns the ids of the
 * campaigns started, for the change feed.
 *
 * Lock order: campaigns rows are locked in id order before any contact or counters row, as the
 * lifecycle moves and `addCampaignContacts` lock them, so no cycle with them is possible. The lock
 * is FOR NO KEY UPDATE, never FOR UPDATE: a transaction that inserts a row referencing the campaign
 * (a failure reason, a contact) takes FOR KEY SHARE on it after its contacts and counters, and
 * FOR UPDATE would make that a cycle (a deadlock seen under three concurrent instances).
 */
export async function startCampaignsOnFirstEvent(tx: Queryable, events: readonly AcceptedEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const earliest = new Map<string, Date>();
  for (const { contact, fact } of events) {
    const seen = earliest.get(contact.campaignId);
    if (!seen || fact.at < seen) earliest.set(contact.campaignId, fact.at);
  }
  const ids = [...earliest.keys()].sort();
  const rows: { id: string }[] = await tx.query(
    `WITH e AS (SELECT * FROM unnest($1::char(24)[], $2::timestamptz[]) AS e(id, at)),
     startable AS (
       SELECT c.id FROM campaigns c
       WHERE c.id = ANY($1::char(24)[]) AND c.status IN ('draft', 'scheduled')
       ORDER BY c.id FOR NO KEY UPDATE),
     started AS (
       UPDATE campaigns c SET status = 'running', started_at = e.at
       FROM startable s JOIN e ON e.id = s.id
       WHERE c.id = s.id
       RETURNING c.id)
     SELECT id FROM started`,
    [ids, ids.map((id) => earliest.get(id)!)],
  );
  return rows.map((r) => r.id);
}
