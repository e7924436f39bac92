import type { Pool } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { In, MoreThan } from 'typeorm';
import type { FailureReasonCount } from '../domain/campaign-stats';
import type { CampaignStatus, StatusTimes } from '../domain/campaign-status';
import { CampaignCountersEntity, CampaignEntity, CampaignFailureReasonEntity } from './entities';
import { poolModeOf } from './data-source';
import { countsInSql } from './lattice.sql';

/** Anything that runs SQL: the data source, or a transaction's entity manager. */
export type Queryable = Pick<DataSource | EntityManager, 'query'>;

/** A campaign with its counters row: what every read that shows stats returns. */
export type CampaignWithCounters = CampaignEntity & { counters: CampaignCountersEntity };

// The stats read: one indexed row of campaigns joined to one counters row, whatever the size.
const FIND_RECORD = `
  SELECT c.id, c.workspace_id, c.name, c.status, c.created_at, c.scheduled_at, c.started_at, c.completed_at,
         c.failure_reason, k.total_contacts, k.touched, k.sent, k.delivered, k.read, k.clicked, k.replied,
         k.failed, k.updated_at
  FROM campaigns c JOIN campaign_counters k ON k.campaign_id = c.id
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
  failure_reason: string | null;
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

/**
 * The entities of one row of {@link FIND_RECORD}, as TypeORM would hydrate them, for a fraction
 * of the cost: plain constructors and assignments (no metadata walk per read).
 */
function hydrate(row: RecordRow): CampaignWithCounters {
  const counters = new CampaignCountersEntity();
  counters.campaignId = row.id;
  counters.totalContacts = row.total_contacts;
  counters.touched = row.touched;
  counters.sent = row.sent;
  counters.delivered = row.delivered;
  counters.read = row.read;
  counters.clicked = row.clicked;
  counters.replied = row.replied;
  counters.failed = row.failed;
  counters.updatedAt = row.updated_at;
  const campaign = new CampaignEntity();
  campaign.id = row.id;
  campaign.workspaceId = row.workspace_id;
  campaign.name = row.name;
  campaign.status = row.status;
  campaign.createdAt = row.created_at;
  campaign.scheduledAt = row.scheduled_at;
  campaign.startedAt = row.started_at;
  campaign.completedAt = row.completed_at;
  campaign.failureReason = row.failure_reason;
  campaign.counters = counters;
  return campaign as CampaignWithCounters;
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
  /** named prepared statements on the hot read: only where a session keeps them */
  private readonly namedStatements: boolean;

  constructor(private readonly db: DataSource) {
    this.namedStatements = poolModeOf(db) === 'session';
  }

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Creates the campaign and its counters row. */
  async insertCampaign(
    tx: EntityManager,
    campaign: { id: string; workspaceId: string; name: string; status: CampaignStatus; scheduledAt: Date | null },
  ): Promise<void> {
    await tx.getRepository(CampaignEntity).insert(campaign);
    await tx.getRepository(CampaignCountersEntity).insert({ campaignId: campaign.id });
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
   * as a named prepared statement (parsed and planned once per connection; unnamed behind a
   * transaction pooler), hydrated into the
   * entities that the cold paths load through repositories.
   */
  async findRecord(workspaceId: string, campaignId: string): Promise<CampaignWithCounters | null> {
    const pool = (this.db.driver as unknown as { master: Pool }).master;
    const { rows } = await pool.query<RecordRow>({
      // A transaction pooler keeps no named statement from one query to the next: unnamed there.
      ...(this.namedStatements ? { name: 'campaign_stats_record' } : {}),
      text: FIND_RECORD,
      values: [campaignId, workspaceId],
    });
    return rows[0] ? hydrate(rows[0]) : null;
  }

  /** A page of a workspace's campaigns with their counters, newest first, after the cursor; `limit` at most. */
  async listRecords(
    workspaceId: string,
    options: { status?: CampaignStatus; after?: CampaignCursor; limit: number },
  ): Promise<CampaignWithCounters[]> {
    const query = this.db
      .getRepository(CampaignEntity)
      .createQueryBuilder('c')
      .innerJoinAndSelect('c.counters', 'k')
      .where('c.workspaceId = :workspaceId', { workspaceId });
    if (options.status) query.andWhere('c.status = :status', { status: options.status });
    if (options.after) {
      // a row comparison, so the (workspace_id, created_at DESC, id DESC) index serves the page
      query.andWhere('(c.createdAt, c.id) < (:createdAt, :id)', options.after);
    }
    const campaigns = await query
      .orderBy('c.createdAt', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(options.limit)
      .getMany();
    return campaigns as CampaignWithCounters[];
  }

  /** Failure reasons of many campaigns in one query, keyed by campaign id. */
  async failureReasons(campaignIds: readonly string[]): Promise<Map<string, FailureReasonCount[]>> {
    const byCampaign = new Map<string, FailureReasonCount[]>();
    if (campaignIds.length === 0) return byCampaign;
    const reasons = await this.db.getRepository(CampaignFailureReasonEntity).find({
      where: { campaignId: In([...campaignIds]), contacts: MoreThan(0) },
    });
    for (const reason of reasons) {
      const list = byCampaign.get(reason.campaignId) ?? [];
      list.push({ code: reason.code, title: reason.title, count: reason.contacts });
      byCampaign.set(reason.campaignId, list);
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

  /**
   * The campaign's status, its row locked until the transaction ends; null when not the workspace's.
   * FOR NO KEY UPDATE: it excludes every other status move, yet lets a concurrent event batch check
   * its references to the campaign (FOR KEY SHARE, e.g. inserting a failure reason) while it holds
   * counters this transaction may wait for: with FOR UPDATE that is a deadlock.
   */
  async lockStatus(tx: EntityManager, workspaceId: string, campaignId: string): Promise<CampaignStatus | null> {
    const campaign = await tx.getRepository(CampaignEntity).findOne({
      select: { id: true, status: true },
      where: { id: campaignId, workspaceId },
      lock: { mode: 'for_no_key_update' },
    });
    return campaign?.status ?? null;
  }

  /** Sets the status and the times the move sets; `failureReason` only when given. */
  async updateStatus(
    tx: EntityManager,
    campaignId: string,
    status: CampaignStatus,
    times: StatusTimes,
    failureReason?: string | null,
  ): Promise<void> {
    await tx
      .getRepository(CampaignEntity)
      .update({ id: campaignId }, { status, ...times, ...(failureReason !== undefined ? { failureReason } : {}) });
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
