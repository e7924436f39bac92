import type { DataSource } from 'typeorm';
import { COUNTER_NAMES } from '../../src/domain/delivery-lattice';
import { RECOUNT_COLUMNS } from '../../src/store/lattice.sql';

/** The stored counters of a campaign next to a recount over its contacts (the invariant of DESIGN section 1). */
export async function storedAndRecounted(db: DataSource, campaignId: string) {
  const [stored] = await db.query(
    `SELECT total_contacts, ${COUNTER_NAMES.join(', ')} FROM campaign_counters WHERE campaign_id = $1`,
    [campaignId],
  );
  const [recounted] = await db.query(
    `SELECT ${RECOUNT_COLUMNS}
     FROM campaign_contacts WHERE campaign_id = $1`,
    [campaignId],
  );
  const reasons = await db.query(
    `SELECT coalesce(sum(contacts), 0)::int AS n FROM campaign_failure_reasons WHERE campaign_id = $1`,
    [campaignId],
  );
  return { stored, recounted, failureReasonTotal: reasons[0].n as number };
}
