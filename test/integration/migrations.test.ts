import { createDataSource } from '../../src/store/data-source';
import { createTestDatabase } from '../support/database';

const TABLES = [
  'api_keys',
  'campaign_contacts',
  'campaign_counters',
  'campaign_failure_reasons',
  'campaigns',
  'contact_messages',
  'ingested_events',
  'parked_deliveries',
  'tracked_link_clicks',
  'tracked_links',
  'whatsapp_numbers',
  'workspaces',
];
const TRACKED_LINK_TABLES = ['tracked_link_clicks', 'tracked_links'];

const FUNCTIONS = [
  'lattice_counts_clicked',
  'lattice_counts_delivered',
  'lattice_counts_failed',
  'lattice_counts_read',
  'lattice_counts_replied',
  'lattice_counts_sent',
  'lattice_counts_touched',
  'lattice_stage',
];

describe('migrations on real PostgreSQL', () => {
  // An empty database for every test: the first expects to start from nothing, the second migrates.
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await database.drop();
  });

  it('run from empty, revert to empty, and run again', async () => {
    const db = createDataSource({ url: database.url, poolSize: 2 });
    await db.initialize();
    try {
      const tables = async () =>
        (
          await db.query(
            `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'schema_migrations' ORDER BY 1`,
          )
        ).map((r: { table_name: string }) => r.table_name);
      const functions = async () =>
        (
          await db.query(
            `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = 'public' ORDER BY 1`,
          )
        ).map((r: { proname: string }) => r.proname);
      expect(await tables()).toEqual([]);
      expect(await functions()).toEqual([]);
      expect(await db.showMigrations()).toBe(true);
      await db.runMigrations();
      expect(await tables()).toEqual(TABLES);
      expect(await functions()).toEqual(FUNCTIONS);
      expect(await db.showMigrations()).toBe(false);
      // The last: the distributable keys (no table goes); then the number table; then the filter
      // index; then the tracked-link tables; then the lattice's functions.
      await db.undoLastMigration();
      expect(await tables()).toEqual(TABLES);
      await db.undoLastMigration();
      expect(await tables()).toEqual(TABLES.filter((t) => t !== 'whatsapp_numbers'));
      await db.undoLastMigration();
      expect(await tables()).toEqual(TABLES.filter((t) => t !== 'whatsapp_numbers'));
      await db.undoLastMigration();
      expect(await tables()).toEqual(
        TABLES.filter((t) => t !== 'whatsapp_numbers' && !TRACKED_LINK_TABLES.includes(t)),
      );
      expect(await functions()).toEqual(FUNCTIONS);
      await db.undoLastMigration();
      expect(await functions()).toEqual([]);
      expect(await tables()).toEqual(
        TABLES.filter((t) => t !== 'whatsapp_numbers' && !TRACKED_LINK_TABLES.includes(t)),
      );
      expect(await db.showMigrations()).toBe(true);
      while ((await db.query(`SELECT count(*)::int AS n FROM schema_migrations`))[0].n > 0)
        await db.undoLastMigration();
      expect(await tables()).toEqual([]);
      await db.runMigrations();
      expect(await tables()).toEqual(TABLES);
      expect(await functions()).toEqual(FUNCTIONS);
    } finally {
      await db.destroy();
    }
  });

  it('each entity describes its table exactly as the migrations made it', async () => {
    const db = createDataSource({ url: database.url, poolSize: 2 });
    await db.initialize();
    try {
      await db.runMigrations();
      const columns: { table_name: string; column_name: string; data_type: string; is_nullable: string }[] =
        await db.query(
          `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name <> 'schema_migrations'`,
        );
      const mapped = db.entityMetadatas.map((m) => m.tableName);
      // Mapped: what goes through repositories; the ingest path's tables are plain SQL's.
      expect(mapped.every((table) => TABLES.includes(table))).toBe(true);
      const fromDatabase = columns
        .filter((c) => mapped.includes(c.table_name))
        .map((c) => `${c.table_name}.${c.column_name} ${c.data_type}${c.is_nullable === 'YES' ? ' null' : ''}`)
        .sort();
      const fromEntities = db.entityMetadatas
        .flatMap((m) =>
          m.columns.map(
            (c) => `${m.tableName}.${c.databaseName} ${db.driver.normalizeType(c)}${c.isNullable ? ' null' : ''}`,
          ),
        )
        .sort();
      expect(fromEntities).toEqual(fromDatabase);
    } finally {
      await db.destroy();
    }
  });
});
