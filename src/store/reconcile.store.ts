import type { DataSource } from 'typeorm';
import type { ChangeFeed } from './change-feed';
import { PostgresChangeFeed } from './change-feed';
import { COUNTER_NAMES } from '../domain/delivery-lattice';
import type { DeliveryCounters } from '../domain/delivery-lattice';
import { RECOUNT_COLUMNS, countsInSql } from './lattice.sql';

/** One campaign's stored numbers against a recount over its contacts. */
export interface CampaignDrift {
  campaignId: string;
  stored: DeliveryCounters & { total_contacts: number };
  recounted: DeliveryCounters & { total_contacts: number };
  storedReasons: Record<number, number>;
  recountedReasons: Record<number, number>;
  drift: boolean;
  fixed: boolean;
}

/**
 * Recounts campaigns from their contacts and compares with the stored counters and failure
 * reasons; with `fix`, makes the stored numbers equal the recount. Each campaign is checked with
 * its counters row locked: changes commit contacts and counters together and take that lock last,
 * so what the recount sees is exactly what the counters should say.
 */
export async function reconcileCampaigns(
  db: DataSource,
  options: {
    campaignId?: string;
    fix: boolean;
    /** where repairs are announced, so that subscribers see repaired numbers @default PostgreSQL NOTIFY */
    feed?: ChangeFeed;
  },
): Promise<CampaignDrift[]> {
  const ids: { campaign_id: string }[] = options.campaignId
    ? await db.query(`SELECT campaign_id FROM campaign_counters WHERE campaign_id = $1`, [options.campaignId])
    : await db.query(`SELECT campaign_id FROM campaign_counters ORDER BY campaign_id`);
  const report: CampaignDrift[] = [];
  for (const { campaign_id: campaignId } of ids) {
    report.push(
      await db.transaction(async (tx) => {
        type Counts = DeliveryCounters & { total_contacts: number };
        const [stored]: Counts[] = await tx.query(
          `SELECT total_contacts, ${COUNTER_NAMES.join(', ')} FROM campaign_counters WHERE campaign_id = $1 FOR UPDATE`,
          [campaignId],
        );
        const [recounted]: Counts[] = await tx.query(
          `SELECT ${RECOUNT_COLUMNS} FROM campaign_contacts WHERE campaign_id = $1`,
          [campaignId],
        );
        const reasonRows: { code: number; contacts: number }[] = await tx.query(
          `SELECT code, contacts FROM campaign_failure_reasons WHERE campaign_id = $1 AND contacts <> 0`,
          [campaignId],
        );
        const recountRows: { code: number; title: string; contacts: number }[] = await tx.query(
          `SELECT coalesce(failure_code, 0) AS code, min(coalesce(failure_title, 'Unknown error')) AS title, count(*)::int AS contacts
           FROM campaign_contacts WHERE campaign_id = $1 AND ${countsInSql('failed')} GROUP BY 1`,
          [campaignId],
        );
        const storedReasons = Object.fromEntries(reasonRows.map((r) => [r.code, r.contacts]));
        const recountedReasons = Object.fromEntries(recountRows.map((r) => [r.code, r.contacts]));
        const drift =
          JSON.stringify(stored) !== JSON.stringify(recounted) ||
          JSON.stringify(storedReasons) !== JSON.stringify(recountedReasons);
        if (drift && options.fix) {
          await tx.query(
            `UPDATE campaign_counters SET total_contacts = $2, ${COUNTER_NAMES.map((n, i) => `${n} = $${i + 3}`).join(', ')},
               updated_at = now() WHERE campaign_id = $1`,
            [campaignId, recounted!.total_contacts, ...COUNTER_NAMES.map((n) => recounted![n])],
          );
          await tx.query(`DELETE FROM campaign_failure_reasons WHERE campaign_id = $1`, [campaignId]);
          if (recountRows.length > 0) {
            await tx.query(
              `INSERT INTO campaign_failure_reasons (campaign_id, code, title, contacts)
               SELECT $1, * FROM unnest($2::int[], $3::text[], $4::int[])`,
              [
                campaignId,
                recountRows.map((r) => r.code),
                recountRows.map((r) => r.title),
                recountRows.map((r) => r.contacts),
              ],
            );
          }
          await (options.feed ?? new PostgresChangeFeed()).announce(tx, [campaignId]);
        }
        return {
          campaignId,
          stored: stored!,
          recounted: recounted!,
          storedReasons,
          recountedReasons,
          drift,
          fixed: drift && options.fix,
        };
      }),
    );
  }
  return report;
}
