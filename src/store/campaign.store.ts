import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import type { CampaignRecord, FailureReasonCount } from '../domain/campaign-stats';
import type { CampaignStatus, StatusTimes } from '../domain/campaign-status';
import { countsInSql } from './lattice.sql';

/** Anything that runs SQL: the data source, or a transaction's entity manager. */
export type Queryable = Pick<DataSource | EntityManager, 'query'>;

// The stats read: one indexed row of campaigns joined to one counters row, whatever the size.
const RECORD_COLUMNS = `
  c.id, c.workspace_id, c.name, c.status, c.created_at, c.scheduled_at, c.started_at, c.completed_at,
  k.total_contacts, k.touched, k.sent, k.delivered, k.read, k.clicked, k.replied, k.failed, k.updated_at`;

const FIND_RECORD = `SELECT ${RECORD_COLUMNS} FROM campaigns c JOIN campaign_counters k ON k.campaign_id = c.id
  WHERE c.id = $1 AND c.workspace_id = $2`;

interface RecordRow {
  id: string;
  workspace_id: string;
  name: string;
  status: CampaignStatus;
  created_at: Date;
  scheduled_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  total_contacts: number;
  touched: number;
  sent: number;
  delivered: number;
  read: number;
  clicked: number;
  replied: number;
  failed: number;
  updated_at: Date;
}

function toRecord(row: RecordRow): CampaignRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    status: row.status,
    createdAt: row.created_at,
    scheduledAt: row.scheduled_at,
    startedAt: row.started_at,
    completedAt: row.completed_at,
    totalContacts: row.total_contacts,
    counters: {
      touched: row.touched,
      sent: row.sent,
      delivered: row.delivered,
      read: row.read,
      clicked: row.clicked,
      replied: row.replied,
      failed: row.failed,
    },
    updatedAt: row.updated_at,
  };
}

/** One bucket of a campaign's timeline: contacts that reached each stage in it. */
export interface TimelineRow {
  at: Date;
  sent: number;
  delivered: number;
  read: number;
  clicked: number;
  replied: number;
  failed: number;
}

/** A position in the campaigns list, newest first. */
export interface CampaignCursor {
  createdAt: Date;
  id: string;
}

export class CampaignStore {
  constructor(private readonly db: DataSource) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Creates the campaign and its counters row. */
  async insertCampaign(
    tx: Queryable,
    campaign: { id: string; workspaceId: string; name: string; status: CampaignStatus; scheduledAt: Date | null },
  ): Promise<void> {
    await tx.query(`INSERT INTO campaigns (id, workspace_id, name, status, scheduled_at) VALUES ($1, $2, $3, $4, $5)`, [
      campaign.id,
      campaign.workspaceId,
      campaign.name,
      campaign.status,
      campaign.scheduledAt,
    ]);
    await tx.query(`INSERT INTO campaign_counters (campaign_id) VALUES ($1)`, [campaign.id]);
  }

  /**
   * Adds contacts in bulk (one statement, whatever their number); numbers already in the campaign
   * are skipped. Returns how many were new. The counters row is locked last, as on the event path.
   */
  async insertContacts(tx: Queryable, campaignId: string, phones: string[]): Promise<number> {
    if (phones.length === 0) return 0;
    const inserted: { n: number }[] = await tx.query(
      `WITH added AS (
         INSERT INTO campaign_contacts (campaign_id, phone)
         SELECT $1, phone FROM unnest($2::text[]) AS phone
         ON CONFLICT (campaign_id, phone) DO NOTHING
         RETURNING 1)
       SELECT count(*)::int AS n FROM added`,
      [campaignId, phones],
    );
    const added = inserted[0]!.n;
    if (added > 0) {
      await tx.query(
        `UPDATE campaign_counters SET total_contacts = total_contacts + $2, updated_at = now() WHERE campaign_id = $1`,
        [campaignId, added],
      );
    }
    return added;
  }

  /**
   * The stats read, the hot path: straight on the pg pool under TypeORM (no query runner per call)
   * as a named prepared statement (parsed and planned once per connection).
   */
  async findRecord(workspaceId: string, campaignId: string): Promise<CampaignRecord | null> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    const { rows } = await pool.query<RecordRow>({
      name: 'campaign_stats_record',
      text: FIND_RECORD,
      values: [campaignId, workspaceId],
    });
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Many campaigns in one query; missing ids are simply absent from the map. */
  async findRecords(workspaceId: string, campaignIds: readonly string[]): Promise<Map<string, CampaignRecord>> {
    const rows: RecordRow[] = await this.db.query(
      `SELECT ${RECORD_COLUMNS} FROM campaigns c JOIN campaign_counters k ON k.campaign_id = c.id
       WHERE c.id = ANY($1::char(24)[]) AND c.workspace_id = $2`,
      [campaignIds, workspaceId],
    );
    return new Map(rows.map((row) => [row.id, toRecord(row)]));
  }

  /** A page of a workspace's campaigns, newest first, after the cursor; `limit` rows at most. */
  async listRecords(
    workspaceId: string,
    options: { status?: CampaignStatus; after?: CampaignCursor; limit: number },
  ): Promise<CampaignRecord[]> {
    const params: unknown[] = [workspaceId, options.limit];
    let where = 'c.workspace_id = $1';
    if (options.status) {
      params.push(options.status);
      where += ` AND c.status = $${params.length}`;
    }
    if (options.after) {
      params.push(options.after.createdAt, options.after.id);
      where += ` AND (c.created_at, c.id) < ($${params.length - 1}, $${params.length})`;
    }
    const rows: RecordRow[] = await this.db.query(
      `SELECT ${RECORD_COLUMNS} FROM campaigns c JOIN campaign_counters k ON k.campaign_id = c.id
       WHERE ${where} ORDER BY c.created_at DESC, c.id DESC LIMIT $2`,
      params,
    );
    return rows.map(toRecord);
  }

  /** Failure reasons of many campaigns in one query, keyed by campaign id. */
  async failureReasons(campaignIds: readonly string[]): Promise<Map<string, FailureReasonCount[]>> {
    const rows: { campaign_id: string; code: number; title: string; contacts: number }[] = await this.db.query(
      `SELECT campaign_id, code, title, contacts FROM campaign_failure_reasons
       WHERE campaign_id = ANY($1::char(24)[]) AND contacts > 0`,
      [campaignIds],
    );
    const byCampaign = new Map<string, FailureReasonCount[]>();
    for (const row of rows) {
      const list = byCampaign.get(row.campaign_id) ?? [];
      list.push({ code: row.code, title: row.title, count: row.contacts });
      byCampaign.set(row.campaign_id, list);
    }
    return byCampaign;
  }

  /**
   * Per time bucket, how many contacts reached each stage in it, from the earliest-time columns.
   * A stage's time is the earliest evidence that proves it (a read without a `delivered` was
   * delivered when it was read), so each column sums to the matching count. Only buckets with
   * something in them, oldest first, at most `limit`.
   */
  async timeline(
    campaignId: string,
    bucket: 'minute' | 'hour',
    range: { from: Date | null; to: Date | null },
    limit: number,
  ): Promise<TimelineRow[]> {
    return this.db.query(
      `WITH c AS (
         SELECT LEAST(first_sent_at, first_delivered_at, first_read_at, first_clicked_at, first_replied_at) AS sent,
                LEAST(first_delivered_at, first_read_at, first_clicked_at, first_replied_at) AS delivered,
                LEAST(first_read_at, first_clicked_at, first_replied_at) AS read,
                first_clicked_at AS clicked,
                first_replied_at AS replied,
                CASE WHEN ${countsInSql('failed')} THEN first_failed_at END AS failed
         FROM campaign_contacts WHERE campaign_id = $1 AND ${countsInSql('touched')}),
       e AS (
         SELECT 'sent' AS k, sent AS at FROM c UNION ALL SELECT 'delivered', delivered FROM c
         UNION ALL SELECT 'read', read FROM c UNION ALL SELECT 'clicked', clicked FROM c
         UNION ALL SELECT 'replied', replied FROM c UNION ALL SELECT 'failed', failed FROM c)
       SELECT date_trunc($2, at) AS at,
              count(*) FILTER (WHERE k = 'sent')::int AS sent, count(*) FILTER (WHERE k = 'delivered')::int AS delivered,
              count(*) FILTER (WHERE k = 'read')::int AS read, count(*) FILTER (WHERE k = 'clicked')::int AS clicked,
              count(*) FILTER (WHERE k = 'replied')::int AS replied, count(*) FILTER (WHERE k = 'failed')::int AS failed
       FROM e
       WHERE at IS NOT NULL AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
       GROUP BY 1 ORDER BY 1 LIMIT $5`,
      [campaignId, bucket, range.from, range.to, limit],
    );
  }

  /** The campaign's status, its row locked until the transaction ends; null when not the workspace's. */
  async lockStatus(tx: Queryable, workspaceId: string, campaignId: string): Promise<CampaignStatus | null> {
    const rows: { status: CampaignStatus }[] = await tx.query(
      `SELECT status FROM campaigns WHERE id = $1 AND workspace_id = $2 FOR UPDATE`,
      [campaignId, workspaceId],
    );
    return rows[0]?.status ?? null;
  }

  async updateStatus(
    tx: Queryable,
    campaignId: string,
    status: CampaignStatus,
    times: StatusTimes,
    failureReason?: string | null,
  ): Promise<void> {
    const sets = ['status = $2'];
    const params: unknown[] = [campaignId, status];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (times.scheduledAt !== undefined) set('scheduled_at', times.scheduledAt);
    if (times.startedAt !== undefined) set('started_at', times.startedAt);
    if (times.completedAt !== undefined) set('completed_at', times.completedAt);
    if (failureReason !== undefined) set('failure_reason', failureReason);
    await tx.query(`UPDATE campaigns SET ${sets.join(', ')} WHERE id = $1`, params);
  }

  /** Ids of the workspace's campaigns among `campaignIds`. */
  async ownedCampaignIds(tx: Queryable, workspaceId: string, campaignIds: readonly string[]): Promise<Set<string>> {
    const rows: { id: string }[] = await tx.query(
      `SELECT id FROM campaigns WHERE id = ANY($1::char(24)[]) AND workspace_id = $2`,
      [campaignIds, workspaceId],
    );
    return new Set(rows.map((r) => r.id));
  }
}
