import type { DataSource } from 'typeorm';

/** The stored counters of a campaign next to a recount over its contacts (the invariant of docs/lattice.md). */
export async function storedAndRecounted(db: DataSource, campaignId: string) {
  const [stored] = await db.query(
    `SELECT total_contacts, touched, sent, delivered, read, clicked, replied, failed FROM campaign_counters WHERE campaign_id = $1`,
    [campaignId],
  );
  const [recounted] = await db.query(
    `SELECT count(*)::int AS total_contacts,
            count(*) FILTER (WHERE flags <> 0)::int AS touched,
            count(*) FILTER (WHERE flags & 31 <> 0)::int AS sent,
            count(*) FILTER (WHERE flags & 30 <> 0)::int AS delivered,
            count(*) FILTER (WHERE flags & 28 <> 0)::int AS read,
            count(*) FILTER (WHERE flags & 8 <> 0)::int AS clicked,
            count(*) FILTER (WHERE flags & 16 <> 0)::int AS replied,
            count(*) FILTER (WHERE flags & 32 <> 0 AND flags & 30 = 0)::int AS failed
     FROM campaign_contacts WHERE campaign_id = $1`,
    [campaignId],
  );
  const reasons = await db.query(
    `SELECT coalesce(sum(contacts), 0)::int AS n FROM campaign_failure_reasons WHERE campaign_id = $1`,
    [campaignId],
  );
  return { stored, recounted, failureReasonTotal: reasons[0].n as number };
}
