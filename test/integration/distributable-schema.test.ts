import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/store/data-source';
import { createTestDatabase } from '../support/database';

/** The tables that grow with a campaign's audience or belong to one campaign: keyed by campaign_id (docs/scaling.md). */
const BY_CAMPAIGN = [
  'campaign_contacts',
  'campaign_counters',
  'campaign_failure_reasons',
  'tracked_link_clicks',
  'tracked_links',
] as const;

const CAMPAIGN_A = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const CAMPAIGN_B = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const LINK = 'cccccccccccccccccccccccc';

interface Constraint {
  table: string;
  name: string;
  type: 'p' | 'u' | 'f';
  columns: string[];
  definition: string;
}

async function constraintsOf(db: DataSource, tables: readonly string[]): Promise<Constraint[]> {
  return db.query(
    `SELECT c.conrelid::regclass::text AS table, c.conname AS name, c.contype AS type,
            array(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, at)
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.at) AS columns,
            pg_get_constraintdef(c.oid) AS definition
     FROM pg_constraint c
     WHERE c.conrelid::regclass::text = ANY($1) AND c.contype IN ('p', 'u', 'f')
     ORDER BY 1, 2`,
    [tables],
  );
}

/** Rows of the schema before this migration: two campaigns, contacts, a message id each, a link and its clicks. */
async function seedPreviousSchema(db: DataSource): Promise<void> {
  const [{ id: workspace }] = await db.query(`INSERT INTO workspaces (name) VALUES ('one') RETURNING id`);
  for (const campaign of [CAMPAIGN_A, CAMPAIGN_B]) {
    await db.query(`INSERT INTO campaigns (id, workspace_id, name, status) VALUES ($1, $2, 'c', 'running')`, [
      campaign,
      workspace,
    ]);
    await db.query(`INSERT INTO campaign_counters (campaign_id) VALUES ($1)`, [campaign]);
    await db.query(
      `INSERT INTO campaign_contacts (campaign_id, phone) SELECT $1, '+1415555' || lpad(n::text, 4, '0')
       FROM generate_series(1, 50) AS n`,
      [campaign],
    );
  }
  await db.query(
    `INSERT INTO contact_messages (workspace_id, whatsapp_message_id, contact_id, campaign_id)
     SELECT $1, 'wamid.' || id, id, campaign_id FROM campaign_contacts`,
    [workspace],
  );
  await db.query(
    `INSERT INTO tracked_links (id, workspace_id, campaign_id, url, secret)
     VALUES ($1, $2, $3, 'https://example.com/', decode(repeat('ab', 32), 'hex'))`,
    [LINK, workspace, CAMPAIGN_A],
  );
  await db.query(
    `INSERT INTO tracked_link_clicks (link_id, contact_id, first_clicked_at)
     SELECT $1, id, now() FROM campaign_contacts WHERE campaign_id = $2 ORDER BY id LIMIT 7`,
    [LINK, CAMPAIGN_A],
  );
}

describe('the schema is distributable by campaign_id', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let db: DataSource;
  beforeAll(async () => {
    database = await createTestDatabase();
    db = createDataSource({ url: database.url, poolSize: 2 });
    await db.initialize();
    await db.runMigrations();
    await db.undoLastMigration();
    await seedPreviousSchema(db);
    await db.runMigrations();
  });
  afterAll(async () => {
    await db.destroy();
    await database.drop();
  });

  it('keeps every row through the migration, each click with its link’s campaign', async () => {
    const counts = await db.query(
      `SELECT (SELECT count(*)::int FROM campaign_contacts) AS contacts,
              (SELECT count(*)::int FROM contact_messages) AS messages,
              (SELECT count(*)::int FROM tracked_link_clicks WHERE campaign_id = $1) AS clicks`,
      [CAMPAIGN_A],
    );
    expect(counts).toEqual([{ contacts: 100, messages: 100, clicks: 7 }]);
  });

  it('every unique key and every reference between campaign tables includes campaign_id', async () => {
    const constraints = await constraintsOf(db, BY_CAMPAIGN);
    const keys = constraints.filter((c) => c.type !== 'f');
    // each table has its primary key at least; none lacks campaign_id
    expect(new Set(keys.map((c) => c.table))).toEqual(new Set(BY_CAMPAIGN));
    expect(keys.filter((c) => !c.columns.includes('campaign_id'))).toEqual([]);
    const references = constraints.filter(
      (c) => c.type === 'f' && !/REFERENCES (workspaces|campaigns)\(/.test(c.definition),
    );
    expect(references.length).toBeGreaterThan(0);
    expect(references.filter((c) => !c.columns.includes('campaign_id'))).toEqual([]);
    // unique indexes made outside constraints too
    const uniqueIndexes: { table: string; definition: string }[] = await db.query(
      `SELECT i.indrelid::regclass::text AS table, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i WHERE i.indrelid::regclass::text = ANY($1) AND i.indisunique`,
      [BY_CAMPAIGN],
    );
    expect(uniqueIndexes.filter((i) => !/\(campaign_id[,)]/.test(i.definition))).toEqual([]);
    // contact_messages references contacts by campaign too; its own key is the message id's workspace scope
    const messages = await constraintsOf(db, ['contact_messages']);
    expect(messages.find((c) => c.type === 'p')!.columns).toEqual(['workspace_id', 'whatsapp_message_id']);
    expect(messages.filter((c) => c.definition.includes('REFERENCES campaign_contacts')).map((c) => c.columns)).toEqual(
      [['campaign_id', 'contact_id']],
    );
  });

  it('hash partitioning by campaign_id takes every table with its keys and references, and the rows with them', async () => {
    // PostgreSQL refuses a unique key of a partitioned table that lacks the partition key: build a
    // partitioned twin of each table with every key and reference of the original, and fill it.
    const runner = db.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    try {
      const twin = (table: string) => `${table}_by_campaign`;
      const order = [
        'campaign_contacts',
        'campaign_counters',
        'campaign_failure_reasons',
        'tracked_links',
        'tracked_link_clicks',
      ];
      const constraints = await constraintsOf(db, BY_CAMPAIGN);
      for (const table of order) {
        await runner.query(
          `CREATE TABLE ${twin(table)} (LIKE ${table} INCLUDING DEFAULTS) PARTITION BY HASH (campaign_id)`,
        );
        for (let r = 0; r < 4; r++) {
          await runner.query(
            `CREATE TABLE ${twin(table)}_${r} PARTITION OF ${twin(table)} FOR VALUES WITH (MODULUS 4, REMAINDER ${r})`,
          );
        }
        for (const c of constraints.filter((k) => k.table === table && k.type !== 'f')) {
          await runner.query(`ALTER TABLE ${twin(table)} ADD CONSTRAINT ${c.name}_twin ${c.definition}`);
        }
      }
      for (const c of constraints.filter((k) => k.type === 'f')) {
        const definition = c.definition.replace(/REFERENCES (\w+)\(/, (whole, target: string) =>
          (BY_CAMPAIGN as readonly string[]).includes(target) ? `REFERENCES ${twin(target)}(` : whole,
        );
        await runner.query(`ALTER TABLE ${twin(c.table)} ADD CONSTRAINT ${c.name}_twin ${definition}`);
      }
      for (const table of order) {
        const columns = (
          await runner.query(
            `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) AS list
             FROM information_schema.columns WHERE table_name = $1`,
            [table],
          )
        )[0].list;
        await runner.query(`INSERT INTO ${twin(table)} (${columns}) SELECT ${columns} FROM ${table}`);
      }
      // each campaign's contacts sit in one partition; a click of a contact of another campaign is refused
      const spread = await runner.query(
        `SELECT campaign_id, count(DISTINCT tableoid)::int AS partitions FROM ${twin('campaign_contacts')} GROUP BY 1 ORDER BY 1`,
      );
      expect(spread).toEqual([
        { campaign_id: CAMPAIGN_A, partitions: 1 },
        { campaign_id: CAMPAIGN_B, partitions: 1 },
      ]);
      await runner.query(`SAVEPOINT cross_campaign`);
      await expect(
        runner.query(
          `INSERT INTO ${twin('tracked_link_clicks')} (campaign_id, link_id, contact_id, first_clicked_at)
           SELECT $1, $2, id, now() FROM campaign_contacts WHERE campaign_id = $3 LIMIT 1`,
          [CAMPAIGN_A, LINK, CAMPAIGN_B],
        ),
      ).rejects.toThrow(/foreign key/);
      await runner.query(`ROLLBACK TO SAVEPOINT cross_campaign`);
      expect((await runner.query(`SELECT count(*)::int AS n FROM ${twin('tracked_link_clicks')}`))[0].n).toBe(7);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  });

  it('refuses a click whose contact is not of its link’s campaign, as the twin does', async () => {
    await expect(
      db.query(
        `INSERT INTO tracked_link_clicks (campaign_id, link_id, contact_id, first_clicked_at)
         SELECT $1, $2, id, now() FROM campaign_contacts WHERE campaign_id = $3 LIMIT 1`,
        [CAMPAIGN_A, LINK, CAMPAIGN_B],
      ),
    ).rejects.toThrow(/foreign key/);
  });

  it('reverts to the keys it had, the rows intact', async () => {
    await db.undoLastMigration();
    try {
      const keys = await constraintsOf(db, ['campaign_contacts', 'tracked_link_clicks']);
      expect(keys.filter((c) => c.type === 'p').map((c) => [c.table, c.columns])).toEqual([
        ['campaign_contacts', ['id']],
        ['tracked_link_clicks', ['link_id', 'contact_id']],
      ]);
      expect((await db.query(`SELECT count(*)::int AS n FROM tracked_link_clicks`))[0].n).toBe(7);
    } finally {
      await db.runMigrations();
    }
  });
});
