import type { DataSource } from 'typeorm';
import { compareDecimal, compareText } from './lock-order';

/** A tracked link as stored. Rows never change once made, so they may be cached freely. */
export interface TrackedLinkRow {
  id: string;
  workspaceId: string;
  campaignId: string;
  url: string;
  secret: Buffer;
}

export interface TrackedLinkWithClicks {
  id: string;
  campaignId: string;
  url: string;
  /** contacts that clicked through this link */
  clicks: number;
}

/** One click through a link: its contact, first time. */
export interface LinkClick {
  /** the link's campaign: the contact is one of its contacts */
  campaignId: string;
  linkId: string;
  contactId: string;
  at: Date;
}

export class TrackedLinksStore {
  constructor(private readonly db: DataSource) {}

  async insert(link: TrackedLinkRow): Promise<void> {
    await this.db.query(
      `INSERT INTO tracked_links (id, workspace_id, campaign_id, url, secret) VALUES ($1, $2, $3, $4, $5)`,
      [link.id, link.workspaceId, link.campaignId, link.url, link.secret],
    );
  }

  async find(linkId: string): Promise<TrackedLinkRow | null> {
    const rows: { id: string; workspace_id: string; campaign_id: string; url: string; secret: Buffer }[] =
      await this.db.query(`SELECT id, workspace_id, campaign_id, url, secret FROM tracked_links WHERE id = $1`, [
        linkId,
      ]);
    const row = rows[0];
    return row
      ? { id: row.id, workspaceId: row.workspace_id, campaignId: row.campaign_id, url: row.url, secret: row.secret }
      : null;
  }

  /** The campaign's links, oldest first, or only `linkId`, each with its clicks; only the workspace's. */
  async list(workspaceId: string, campaignId: string, linkId?: string): Promise<TrackedLinkWithClicks[]> {
    const rows: { id: string; campaign_id: string; url: string; clicks: number }[] = await this.db.query(
      `SELECT l.id, l.campaign_id, l.url,
              (SELECT count(*)::int FROM tracked_link_clicks k
               WHERE k.campaign_id = l.campaign_id AND k.link_id = l.id) AS clicks
       FROM tracked_links l
       WHERE l.workspace_id = $1 AND l.campaign_id = $2 AND ($3::char(24) IS NULL OR l.id = $3)
       ORDER BY l.created_at, l.id`,
      [workspaceId, campaignId, linkId ?? null],
    );
    return rows.map((r) => ({ id: r.id, campaignId: r.campaign_id, url: r.url, clicks: r.clicks }));
  }

  /** Records clicks set-based, one statement for the lot; a contact counts once per link. */
  async recordClicks(clicks: readonly LinkClick[]): Promise<void> {
    if (clicks.length === 0) return;
    const sorted = [...clicks].sort(
      (a, b) =>
        compareText(a.campaignId, b.campaignId) ||
        compareText(a.linkId, b.linkId) ||
        compareDecimal(a.contactId, b.contactId),
    );
    await this.db.query(
      `INSERT INTO tracked_link_clicks (campaign_id, link_id, contact_id, first_clicked_at)
       SELECT * FROM unnest($1::char(24)[], $2::char(24)[], $3::bigint[], $4::timestamptz[])
       ON CONFLICT (campaign_id, link_id, contact_id) DO NOTHING`,
      [
        sorted.map((c) => c.campaignId),
        sorted.map((c) => c.linkId),
        sorted.map((c) => c.contactId),
        sorted.map((c) => c.at),
      ],
    );
  }
}
