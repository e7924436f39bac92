import type { DataSource } from 'typeorm';
import type { Kind, ModelCounts } from './lattice-model';
import { KINDS, countCampaign, failureReasons } from './lattice-model';

/** The row of `campaign_counters` that the model's counts of a campaign call for. */
export function storedCountersOf(counts: ModelCounts) {
  return {
    total_contacts: counts.total,
    touched: counts.total - counts.pending,
    sent: counts.sent,
    delivered: counts.delivered,
    read: counts.read,
    clicked: counts.clicked,
    replied: counts.replied,
    failed: counts.failed,
  };
}

/** The kinds a stored `flags` bit set holds: bit i is KINDS[i] (SENT = 1 … FAILED = 32). */
function kindsOfFlags(flags: number): Set<Kind> {
  return new Set(KINDS.filter((_, i) => (flags & (1 << i)) !== 0));
}

/**
 * The stored counters of a campaign next to a recount over its stored contacts (the invariant of
 * docs/lattice.md), the recount made by the model from each contact's stored flags and failure.
 */
export async function storedAndRecounted(db: DataSource, campaignId: string) {
  const [stored] = await db.query(
    `SELECT total_contacts, touched, sent, delivered, read, clicked, replied, failed FROM campaign_counters WHERE campaign_id = $1`,
    [campaignId],
  );
  const rows: { flags: number; failure_code: number | null; failure_title: string | null }[] = await db.query(
    `SELECT flags, failure_code, failure_title FROM campaign_contacts WHERE campaign_id = $1`,
    [campaignId],
  );
  const contacts = rows.map((row) => ({
    kinds: kindsOfFlags(row.flags),
    firstAt: new Map<Kind, number>(),
    failure: row.failure_code === null ? null : { code: row.failure_code, title: row.failure_title ?? '', at: 0 },
  }));
  const reasons: { code: number; contacts: number }[] = await db.query(
    `SELECT code, contacts FROM campaign_failure_reasons WHERE campaign_id = $1 AND contacts <> 0`,
    [campaignId],
  );
  return {
    stored,
    recounted: storedCountersOf(countCampaign(contacts)),
    /** failed contacts per error code, as stored */
    storedReasons: new Map(reasons.map((r) => [r.code, r.contacts])),
    /** failed contacts per error code, recounted by the model */
    recountedReasons: failureReasons(contacts),
    failureReasonTotal: reasons.reduce((n, r) => n + r.contacts, 0),
  };
}
