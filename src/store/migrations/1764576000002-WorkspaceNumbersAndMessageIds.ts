import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tenancy for the webhook: WhatsApp numbers bound to workspaces, and WhatsApp message ids
 * registered per workspace (two workspaces may hold the same id, each for its own contact).
 * Existing registrations keep their campaign's workspace. Facts parked before this migration name
 * no workspace (they came through numbers nobody bound): they stay claimable by a registration of
 * their id in any workspace, as before, until the retention prune drops them.
 * Also an index for pruning dispatcher event ids by age.
 */
export class WorkspaceNumbersAndMessageIds1764576000002 implements MigrationInterface {
  name = 'WorkspaceNumbersAndMessageIds1764576000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE whatsapp_numbers (
        phone_number_id text COLLATE "C" PRIMARY KEY,
        workspace_id bigint NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX whatsapp_numbers_workspace_idx ON whatsapp_numbers (workspace_id)`);

    await q.query(`ALTER TABLE contact_messages ADD COLUMN workspace_id bigint`);
    await q.query(`
      UPDATE contact_messages m SET workspace_id = c.workspace_id FROM campaigns c WHERE c.id = m.campaign_id`);
    await q.query(`ALTER TABLE contact_messages ALTER COLUMN workspace_id SET NOT NULL`);
    await q.query(`
      ALTER TABLE contact_messages ADD CONSTRAINT contact_messages_workspace_fkey
        FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE`);
    await q.query(`ALTER TABLE contact_messages DROP CONSTRAINT contact_messages_pkey`);
    await q.query(`ALTER TABLE contact_messages ADD PRIMARY KEY (workspace_id, whatsapp_message_id)`);

    await q.query(
      `ALTER TABLE parked_deliveries ADD COLUMN workspace_id bigint REFERENCES workspaces (id) ON DELETE CASCADE`,
    );
    await q.query(`DROP INDEX parked_deliveries_fact_key`);
    // The message id first: a registration takes the parked facts of its id, whatever their workspace column.
    await q.query(`
      CREATE UNIQUE INDEX parked_deliveries_fact_key ON parked_deliveries
        (whatsapp_message_id, coalesce(workspace_id, 0), evidence, occurred_at, coalesce(error_code, -1))`);

    await q.query(`CREATE INDEX ingested_events_received_idx ON ingested_events (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX ingested_events_received_idx`);
    await q.query(`DROP INDEX parked_deliveries_fact_key`);
    // Facts of one id parked in several workspaces collapse back into one.
    await q.query(`
      DELETE FROM parked_deliveries p USING parked_deliveries o
      WHERE o.whatsapp_message_id = p.whatsapp_message_id AND o.evidence = p.evidence
        AND o.occurred_at = p.occurred_at AND coalesce(o.error_code, -1) = coalesce(p.error_code, -1) AND o.id < p.id`);
    await q.query(`ALTER TABLE parked_deliveries DROP COLUMN workspace_id`);
    await q.query(`
      CREATE UNIQUE INDEX parked_deliveries_fact_key
        ON parked_deliveries (whatsapp_message_id, evidence, occurred_at, coalesce(error_code, -1))`);
    // An id held by several workspaces keeps its first registration.
    await q.query(`
      DELETE FROM contact_messages m USING contact_messages o
      WHERE o.whatsapp_message_id = m.whatsapp_message_id
        AND (o.registered_at, o.workspace_id) < (m.registered_at, m.workspace_id)`);
    await q.query(`ALTER TABLE contact_messages DROP CONSTRAINT contact_messages_pkey`);
    await q.query(`ALTER TABLE contact_messages DROP COLUMN workspace_id`);
    await q.query(`ALTER TABLE contact_messages ADD PRIMARY KEY (whatsapp_message_id)`);
    await q.query(`DROP TABLE whatsapp_numbers`);
  }
}
