import type { DataSource } from 'typeorm';
import type { ContactStage, DeliveryCounters } from '../domain/delivery-lattice';
import { countsInSql, stageSql } from './lattice.sql';

/** Which contacts a drill-down lists: every contact, those counted in one stats field, or those with no flag. */
export type ContactFilterName = 'all' | 'pending' | Exclude<keyof DeliveryCounters, 'touched'>;

/**
 * The SQL condition of a filter, made only of the lattice's SQL functions: a filter lists exactly
 * the contacts counted in the matching stats field, by construction.
 */
export function filterSql(filter: ContactFilterName, flags = 'flags'): string {
  if (filter === 'all') return 'TRUE';
  if (filter === 'pending') return `NOT ${countsInSql('touched', flags)}`;
  return countsInSql(filter, flags);
}

/**
 * The select-list of one contact as the drill-down and the export show it. Each time is when the
 * contact first counted in that field: the earliest evidence that proves it (a read with no
 * `delivered` was delivered when it was read), as the timeline buckets them; null when it does not
 * count there. The failure is shown while the contact counts as failed.
 */
export const CONTACT_COLUMNS = `phone, ${stageSql()} AS stage,
  CASE WHEN ${countsInSql('sent')} THEN LEAST(first_sent_at, first_delivered_at, first_read_at, first_clicked_at, first_replied_at) END AS sent_at,
  CASE WHEN ${countsInSql('delivered')} THEN LEAST(first_delivered_at, first_read_at, first_clicked_at, first_replied_at) END AS delivered_at,
  CASE WHEN ${countsInSql('read')} THEN LEAST(first_read_at, first_clicked_at, first_replied_at) END AS read_at,
  CASE WHEN ${countsInSql('clicked')} THEN first_clicked_at END AS clicked_at,
  CASE WHEN ${countsInSql('replied')} THEN first_replied_at END AS replied_at,
  CASE WHEN ${countsInSql('failed')} THEN first_failed_at END AS failed_at,
  CASE WHEN ${countsInSql('failed')} THEN failure_code END AS failure_code,
  CASE WHEN ${countsInSql('failed')} THEN failure_title END AS failure_title`;

/** One contact of a drill-down page. */
export interface CampaignContactRow {
  phone: string;
  stage: ContactStage;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  clicked_at: Date | null;
  replied_at: Date | null;
  failed_at: Date | null;
  failure_code: number | null;
  failure_title: string | null;
}

/** The contacts behind a campaign's counts. */
export class CampaignContactsStore {
  constructor(private readonly db: DataSource) {}

  /** Whether the campaign is the workspace's (another workspace's answers as a missing one). */
  async owns(workspaceId: string, campaignId: string): Promise<boolean> {
    const rows: unknown[] = await this.db.query(`SELECT 1 FROM campaigns WHERE id = $1 AND workspace_id = $2`, [
      campaignId,
      workspaceId,
    ]);
    return rows.length > 0;
  }

  /** The flag values each filter holds, asked of the lattice's SQL functions once. */
  private readonly flagValues = new Map<ContactFilterName, Promise<number[]>>();

  /**
   * The flag values whose contacts a filter lists, from the filter's own SQL (flags are 6 bits):
   * a page asks for `flags = ANY(these)`, which the planner can estimate and serve from the
   * (campaign_id, flags, phone) index when the filter is sparse.
   */
  private valuesOf(filter: ContactFilterName): Promise<number[]> {
    let values = this.flagValues.get(filter);
    if (!values) {
      values = this.db
        .query(
          `SELECT coalesce(array_agg(f ORDER BY f), '{}') AS v
           FROM generate_series(0, 63) AS f WHERE ${filterSql(filter, 'f::smallint')}`,
        )
        .then((rows: { v: number[] }[]) => rows[0]!.v);
      void values.catch(() => this.flagValues.delete(filter));
      this.flagValues.set(filter, values);
    }
    return values;
  }

  /**
   * Up to `limit` contacts of the filter, by phone, after `afterPhone` (keyset: a page never
   * repeats or skips a contact that stays in the filter, however many events arrive meanwhile).
   * Dense filters read the (campaign_id, phone) key in order; sparse ones the filter index.
   */
  async page(
    campaignId: string,
    filter: ContactFilterName,
    afterPhone: string | null,
    limit: number,
  ): Promise<CampaignContactRow[]> {
    const where = filter === 'all' ? '$4::smallint[] IS NULL' : 'flags = ANY($4::smallint[])';
    return this.db.query(
      `SELECT ${CONTACT_COLUMNS}
       FROM campaign_contacts
       WHERE campaign_id = $1 AND ${afterPhone === null ? '$2::text IS NULL' : 'phone > $2'} AND ${where}
       ORDER BY phone LIMIT $3`,
      [campaignId, afterPhone, limit, filter === 'all' ? null : await this.valuesOf(filter)],
    );
  }
}
