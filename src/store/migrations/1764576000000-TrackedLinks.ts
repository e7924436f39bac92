import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tracked links (docs/rest.md#tracked-links): one row per registered URL, with a random secret of
 * its own that signs the per-contact tokens (so no token is stored, and none can be forged
 * without the row), and the set of contacts that clicked through each link.
 */
export class TrackedLinks1764576000000 implements MigrationInterface {
  name = 'TrackedLinks1764576000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE tracked_links (
        id char(24) PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
        workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        campaign_id char(24) NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
        url text NOT NULL,
        secret bytea NOT NULL CHECK (length(secret) = 32),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX tracked_links_campaign_idx ON tracked_links (campaign_id, created_at, id)`);
    await q.query(`
      CREATE TABLE tracked_link_clicks (
        link_id char(24) NOT NULL REFERENCES tracked_links (id) ON DELETE CASCADE,
        contact_id bigint NOT NULL REFERENCES campaign_contacts (id) ON DELETE CASCADE,
        first_clicked_at timestamptz NOT NULL,
        PRIMARY KEY (link_id, contact_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE tracked_link_clicks`);
    await q.query(`DROP TABLE tracked_links`);
  }
}
