import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Makes the campaign's tables distributable by `campaign_id` (docs/scaling.md): every unique key
 * of a table that grows with a campaign's audience includes it, and every reference between them
 * goes through it, so that hash partitioning (or Citus) by `campaign_id` can take the schema as
 * it is and keep each campaign's rows, and each event batch's writes, in one partition.
 *
 * - `campaign_contacts`: primary key `(campaign_id, id)` (ids stay unique by their identity
 *   sequence); `contact_messages` and `tracked_link_clicks` reference a contact by both.
 * - `tracked_links`: primary key `(campaign_id, id)`, and a plain index on `id` for the click
 *   redirect, which knows only the link id.
 * - `tracked_link_clicks`: gains `campaign_id` (from its link); primary key `(campaign_id, link_id,
 *   contact_id)`; its link and its contact must be of that campaign.
 *
 * `contact_messages` keeps its key `(workspace_id, whatsapp_message_id)`: a status from Meta names
 * only the message id, which is unique per workspace (docs/tenancy.md); it is the one table a
 * distributed deployment keys by workspace instead (docs/scaling.md).
 *
 * One transaction, with no statement timeout (the gateway's 15 s is for requests; the new keys of
 * a large table take longer): on a large database the new keys are built while every read and
 * write of these tables waits (measured in docs/scaling.md). Instances of the previous release do
 * not work on the new keys: stop them all before the upgrade (docs/deploy.md).
 */
export class DistributableByCampaign1764662400000 implements MigrationInterface {
  name = 'DistributableByCampaign1764662400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`SET LOCAL statement_timeout = 0`);
    await q.query(`ALTER TABLE contact_messages DROP CONSTRAINT contact_messages_contact_id_fkey`);
    await q.query(`ALTER TABLE tracked_link_clicks DROP CONSTRAINT tracked_link_clicks_contact_id_fkey`);
    await q.query(`ALTER TABLE tracked_link_clicks DROP CONSTRAINT tracked_link_clicks_link_id_fkey`);

    await q.query(`ALTER TABLE campaign_contacts DROP CONSTRAINT campaign_contacts_pkey`);
    await q.query(`ALTER TABLE campaign_contacts ADD CONSTRAINT campaign_contacts_pkey PRIMARY KEY (campaign_id, id)`);

    await q.query(`ALTER TABLE tracked_links DROP CONSTRAINT tracked_links_pkey`);
    await q.query(`ALTER TABLE tracked_links ADD CONSTRAINT tracked_links_pkey PRIMARY KEY (campaign_id, id)`);
    await q.query(`CREATE INDEX tracked_links_id_idx ON tracked_links (id)`);

    await q.query(`ALTER TABLE tracked_link_clicks ADD COLUMN campaign_id char(24)`);
    await q.query(`
      UPDATE tracked_link_clicks k SET campaign_id = l.campaign_id FROM tracked_links l WHERE l.id = k.link_id`);
    await q.query(`ALTER TABLE tracked_link_clicks ALTER COLUMN campaign_id SET NOT NULL`);
    await q.query(`ALTER TABLE tracked_link_clicks DROP CONSTRAINT tracked_link_clicks_pkey`);
    await q.query(`
      ALTER TABLE tracked_link_clicks ADD CONSTRAINT tracked_link_clicks_pkey
        PRIMARY KEY (campaign_id, link_id, contact_id)`);
    await q.query(`
      ALTER TABLE tracked_link_clicks ADD CONSTRAINT tracked_link_clicks_link_fkey
        FOREIGN KEY (campaign_id, link_id) REFERENCES tracked_links (campaign_id, id) ON DELETE CASCADE`);
    await q.query(`
      ALTER TABLE tracked_link_clicks ADD CONSTRAINT tracked_link_clicks_contact_fkey
        FOREIGN KEY (campaign_id, contact_id) REFERENCES campaign_contacts (campaign_id, id) ON DELETE CASCADE`);

    await q.query(`DROP INDEX contact_messages_contact_idx`);
    await q.query(`CREATE INDEX contact_messages_contact_idx ON contact_messages (campaign_id, contact_id)`);
    await q.query(`
      ALTER TABLE contact_messages ADD CONSTRAINT contact_messages_contact_fkey
        FOREIGN KEY (campaign_id, contact_id) REFERENCES campaign_contacts (campaign_id, id) ON DELETE CASCADE`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`SET LOCAL statement_timeout = 0`);
    await q.query(`ALTER TABLE contact_messages DROP CONSTRAINT contact_messages_contact_fkey`);
    await q.query(`DROP INDEX contact_messages_contact_idx`);
    await q.query(`CREATE INDEX contact_messages_contact_idx ON contact_messages (contact_id)`);

    await q.query(`ALTER TABLE tracked_link_clicks DROP CONSTRAINT tracked_link_clicks_contact_fkey`);
    await q.query(`ALTER TABLE tracked_link_clicks DROP CONSTRAINT tracked_link_clicks_link_fkey`);
    await q.query(`ALTER TABLE tracked_link_clicks DROP CONSTRAINT tracked_link_clicks_pkey`);
    await q.query(`ALTER TABLE tracked_link_clicks DROP COLUMN campaign_id`);
    await q.query(
      `ALTER TABLE tracked_link_clicks ADD CONSTRAINT tracked_link_clicks_pkey PRIMARY KEY (link_id, contact_id)`,
    );

    await q.query(`DROP INDEX tracked_links_id_idx`);
    await q.query(`ALTER TABLE tracked_links DROP CONSTRAINT tracked_links_pkey`);
    await q.query(`ALTER TABLE tracked_links ADD CONSTRAINT tracked_links_pkey PRIMARY KEY (id)`);

    await q.query(`ALTER TABLE campaign_contacts DROP CONSTRAINT campaign_contacts_pkey`);
    await q.query(`ALTER TABLE campaign_contacts ADD CONSTRAINT campaign_contacts_pkey PRIMARY KEY (id)`);

    await q.query(`
      ALTER TABLE tracked_link_clicks ADD CONSTRAINT tracked_link_clicks_link_id_fkey
        FOREIGN KEY (link_id) REFERENCES tracked_links (id) ON DELETE CASCADE`);
    await q.query(`
      ALTER TABLE tracked_link_clicks ADD CONSTRAINT tracked_link_clicks_contact_id_fkey
        FOREIGN KEY (contact_id) REFERENCES campaign_contacts (id) ON DELETE CASCADE`);
    await q.query(`
      ALTER TABLE contact_messages ADD CONSTRAINT contact_messages_contact_id_fkey
        FOREIGN KEY (contact_id) REFERENCES campaign_contacts (id) ON DELETE CASCADE`);
  }
}
