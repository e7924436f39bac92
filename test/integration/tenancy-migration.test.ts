import { DeliveryStore } from '../../src/store/delivery.store';
import { createDataSource } from '../../src/store/data-source';
import { createTestDatabase } from '../support/database';

describe('the tenancy migration keeps existing rows working', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('registrations take their campaign’s workspace; facts parked before it stay claimable', async () => {
    const db = createDataSource({ url: database.url, poolSize: 2 });
    await db.initialize();
    try {
      await db.runMigrations();
      await db.undoLastMigration(); // the distributable keys, which came after
      await db.undoLastMigration(); // the schema as it was before tenancy
      const [{ id: w1 }] = await db.query(`INSERT INTO workspaces (name) VALUES ('one') RETURNING id`);
      const [{ id: w2 }] = await db.query(`INSERT INTO workspaces (name) VALUES ('two') RETURNING id`);
      for (const [campaign, workspace] of [
        ['aaaaaaaaaaaaaaaaaaaaaaaa', w1],
        ['bbbbbbbbbbbbbbbbbbbbbbbb', w2],
      ]) {
        await db.query(`INSERT INTO campaigns (id, workspace_id, name, status) VALUES ($1, $2, 'c', 'running')`, [
          campaign,
          workspace,
        ]);
        await db.query(`INSERT INTO campaign_counters (campaign_id) VALUES ($1)`, [campaign]);
        await db.query(`INSERT INTO campaign_contacts (campaign_id, phone) VALUES ($1, '+14155550100')`, [campaign]);
      }
      await db.query(
        `INSERT INTO contact_messages (whatsapp_message_id, contact_id, campaign_id)
         SELECT 'wamid.' || campaign_id, id, campaign_id FROM campaign_contacts`,
      );
      await db.query(
        `INSERT INTO parked_deliveries (whatsapp_message_id, evidence, occurred_at) VALUES ('wamid.legacy', 2, now())`,
      );

      await db.runMigrations();
      expect(
        await db.query(`SELECT whatsapp_message_id AS id, workspace_id::text AS w FROM contact_messages ORDER BY 1`),
      ).toEqual([
        { id: 'wamid.aaaaaaaaaaaaaaaaaaaaaaaa', w: String(w1) },
        { id: 'wamid.bbbbbbbbbbbbbbbbbbbbbbbb', w: String(w2) },
      ]);
      const store = new DeliveryStore();
      const known = await store.contactsByMessageId(db, [
        { workspaceId: String(w1), messageId: 'wamid.aaaaaaaaaaaaaaaaaaaaaaaa' },
        { workspaceId: String(w2), messageId: 'wamid.aaaaaaaaaaaaaaaaaaaaaaaa' },
      ]);
      expect([...known.keys()]).toEqual([`${w1}|wamid.aaaaaaaaaaaaaaaaaaaaaaaa`]);
      // The fact parked before (no workspace) goes to the first workspace that registers its id.
      const taken = await store.unpark(db, [{ workspaceId: String(w2), messageId: 'wamid.legacy' }]);
      expect(taken).toMatchObject([
        { workspaceId: String(w2), messageId: 'wamid.legacy', fact: { evidence: 'DELIVERED' } },
      ]);
      expect(await store.unpark(db, [{ workspaceId: String(w1), messageId: 'wamid.legacy' }])).toEqual([]);

      // And back: the schema as it was, each id once.
      await db.query(
        `INSERT INTO contact_messages (workspace_id, whatsapp_message_id, contact_id, campaign_id)
         SELECT $1, 'wamid.aaaaaaaaaaaaaaaaaaaaaaaa', id, campaign_id FROM campaign_contacts WHERE campaign_id = 'bbbbbbbbbbbbbbbbbbbbbbbb'`,
        [w2],
      );
      await db.undoLastMigration();
      await db.undoLastMigration();
      expect(
        (await db.query(`SELECT whatsapp_message_id AS id FROM contact_messages ORDER BY 1`)).map(
          (r: { id: string }) => r.id,
        ),
      ).toEqual(['wamid.aaaaaaaaaaaaaaaaaaaaaaaa', 'wamid.bbbbbbbbbbbbbbbbbbbbbbbb']);
    } finally {
      await db.destroy();
    }
  });
});
