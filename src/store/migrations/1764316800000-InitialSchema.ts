import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Workspaces and keys, campaigns, one row per contact, and one counters row per campaign. */
export class InitialSchema1764316800000 implements MigrationInterface {
  name = 'InitialSchema1764316800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE workspaces (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        prefix text NOT NULL,
        key_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`CREATE INDEX api_keys_prefix_idx ON api_keys (prefix)`);
    await q.query(`
      CREATE TABLE campaigns (
        id char(24) PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
        workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        name text NOT NULL,
        status text NOT NULL CHECK (status IN ('draft','scheduled','running','completed','cancelled','failed')),
        -- milliseconds, as JavaScript holds them: page cursors compare equal to the stored value
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        scheduled_at timestamptz,
        started_at timestamptz,
        completed_at timestamptz,
        failure_reason text
      )`);
    await q.query(`CREATE INDEX campaigns_page_idx ON campaigns (workspace_id, created_at DESC, id DESC)`);
    await q.query(
      `CREATE INDEX campaigns_status_page_idx ON campaigns (workspace_id, status, created_at DESC, id DESC)`,
    );
    // Kept apart from campaigns so that counter updates (hot) and status moves do not contend.
    await q.query(`
      CREATE TABLE campaign_counters (
        campaign_id char(24) PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
        total_contacts integer NOT NULL DEFAULT 0,
        touched integer NOT NULL DEFAULT 0,
        sent integer NOT NULL DEFAULT 0,
        delivered integer NOT NULL DEFAULT 0,
        read integer NOT NULL DEFAULT 0,
        clicked integer NOT NULL DEFAULT 0,
        replied integer NOT NULL DEFAULT 0,
        failed integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      ) WITH (fillfactor = 50)`);
    await q.query(`
      CREATE TABLE campaign_contacts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        campaign_id char(24) NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
        phone text COLLATE "C" NOT NULL,
        flags smallint NOT NULL DEFAULT 0,
        first_sent_at timestamptz,
        first_delivered_at timestamptz,
        first_read_at timestamptz,
        first_clicked_at timestamptz,
        first_replied_at timestamptz,
        first_failed_at timestamptz,
        failure_code integer,
        failure_title text,
        failure_at timestamptz,
        CONSTRAINT campaign_contacts_phone_key UNIQUE (campaign_id, phone)
      ) WITH (fillfactor = 80)`);
    // fillfactor: room in each page for the new versions of updated rows, so that event updates
    // (which touch no indexed column) are HOT and leave the indexes alone.
    await q.query(`
      CREATE TABLE contact_messages (
        -- byte-wise collation: ids are ASCII, and C comparisons make the index lookups about 2x faster
        whatsapp_message_id text COLLATE "C" PRIMARY KEY,
        contact_id bigint NOT NULL REFERENCES campaign_contacts (id) ON DELETE CASCADE,
        campaign_id char(24) NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
        registered_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX contact_messages_contact_idx ON contact_messages (contact_id)`);
    await q.query(`
      CREATE TABLE campaign_failure_reasons (
        campaign_id char(24) NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
        code integer NOT NULL,
        title text NOT NULL,
        contacts integer NOT NULL DEFAULT 0,
        PRIMARY KEY (campaign_id, code)
      )`);
    await q.query(`
      CREATE TABLE ingested_events (
        workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        event_id text COLLATE "C" NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace_id, event_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'ingested_events',
      'campaign_failure_reasons',
      'contact_messages',
      'campaign_contacts',
      'campaign_counters',
      'campaigns',
      'api_keys',
      'workspaces',
    ]) {
      await q.query(`DROP TABLE ${table}`);
    }
  }
}
