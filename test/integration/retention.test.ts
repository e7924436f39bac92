import { DeliveryPipeline } from '../../src/ingest/delivery-pipeline';
import { createLogger } from '../../src/logger';
import { PostgresChangeFeed } from '../../src/store/change-feed';
import { DeliveryStore } from '../../src/store/delivery.store';
import { openTestDatabase } from '../support/database';

describe('retention: dispatcher event ids and parked facts pruned in bounded batches', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let pipeline: DeliveryPipeline;
  const store = new DeliveryStore();
  let workspaceId: string;
  beforeAll(async () => {
    database = await openTestDatabase();
    pipeline = new DeliveryPipeline(database.db, store, createLogger('silent'), new PostgresChangeFeed());
    [{ id: workspaceId }] = await database.db.query(`INSERT INTO workspaces (name) VALUES ('retention') RETURNING id`);
  });
  afterAll(() => database.close());

  const count = async (table: string, where = 'true') =>
    (await database.db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`))[0].n as number;

  it('100k old event ids and 20k old parked facts go, recent ones stay, and event inserts go on meanwhile', async () => {
    await database.db.query(
      `INSERT INTO ingested_events (workspace_id, event_id, received_at)
       SELECT $1, 'old-' || g, now() - interval '200 hours' FROM generate_series(1, 100000) g`,
      [workspaceId],
    );
    await database.db.query(
      `INSERT INTO ingested_events (workspace_id, event_id, received_at)
       SELECT $1, 'recent-' || g, now() - interval '100 hours' FROM generate_series(1, 1000) g`,
      [workspaceId],
    );
    await database.db.query(
      `INSERT INTO parked_deliveries (workspace_id, whatsapp_message_id, evidence, occurred_at, received_at)
       SELECT $1, 'wamid.old.' || g, 2, now(), now() - interval '200 hours' FROM generate_series(1, 20000) g`,
      [workspaceId],
    );
    await database.db.query(
      `INSERT INTO parked_deliveries (workspace_id, whatsapp_message_id, evidence, occurred_at)
       SELECT $1, 'wamid.new.' || g, 2, now() FROM generate_series(1, 10) g`,
      [workspaceId],
    );

    // A dispatcher keeps sending while the prune runs: each of its inserts is its own transaction.
    let pruning = true;
    const insertMs: number[] = [];
    const writer = (async () => {
      for (let i = 0; pruning || i < 5; i++) {
        const started = performance.now();
        await database.db.transaction((tx) => store.claimEventIds(tx, workspaceId, [`during-${i}`]));
        insertMs.push(performance.now() - started);
      }
    })();
    const report = await pipeline.pruneRetained({ parkedRetentionHours: 168, eventIdRetentionHours: 168 });
    pruning = false;
    await writer;

    expect(report).toMatchObject({ parked: 20000, eventIds: 100000, more: false });
    expect(report.batches).toBe(4 + 1 + 20 + 1); // full batches of 5,000, then the one that finds less
    expect(await count('ingested_events', `event_id LIKE 'old-%'`)).toBe(0);
    expect(await count('ingested_events', `event_id LIKE 'recent-%'`)).toBe(1000);
    expect(await count('ingested_events', `event_id LIKE 'during-%'`)).toBe(insertMs.length);
    expect(await count('parked_deliveries')).toBe(10);
    // Measured, not asserted (the machine is shared): printed for the record.
    insertMs.sort((a, b) => a - b);
    console.log(
      `retention prune: ${report.batches} batches, longest ${report.longestBatchMs.toFixed(1)} ms; ` +
        `${insertMs.length} concurrent event inserts, longest ${insertMs[insertMs.length - 1]!.toFixed(1)} ms`,
    );
  });

  it('a run stops after maxBatches and says more is left; the next run goes on', async () => {
    await database.db.query(
      `INSERT INTO ingested_events (workspace_id, event_id, received_at)
       SELECT $1, 'bounded-' || g, now() - interval '200 hours' FROM generate_series(1, 250) g`,
      [workspaceId],
    );
    const options = { parkedRetentionHours: 168, eventIdRetentionHours: 168, batchSize: 100, maxBatches: 2 };
    expect(await pipeline.pruneRetained(options)).toMatchObject({ eventIds: 200, more: true });
    expect(await count('ingested_events', `event_id LIKE 'bounded-%'`)).toBe(50);
    expect(await pipeline.pruneRetained(options)).toMatchObject({ eventIds: 50, more: false });
  });

  it('an event id resent after its window is applied again (a no-op on the lattice); within it, skipped', async () => {
    await database.db.query(
      `INSERT INTO ingested_events (workspace_id, event_id, received_at) VALUES ($1, 'aging', now() - interval '3 hours')`,
      [workspaceId],
    );
    await pipeline.pruneRetained({ parkedRetentionHours: 168, eventIdRetentionHours: 4 });
    const claim = () => database.db.transaction((tx) => store.claimEventIds(tx, workspaceId, ['aging']));
    expect([...(await claim())]).toEqual([]);
    await pipeline.pruneRetained({ parkedRetentionHours: 168, eventIdRetentionHours: 2 });
    expect([...(await claim())]).toEqual(['aging']);
  });
});
