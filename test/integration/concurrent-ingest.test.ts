import { PostgresChangeFeed } from '../../src/store/change-feed';
import fc from 'fast-check';
import type { DataSource, EntityManager } from 'typeorm';
import { ApiKeysService } from '../../src/auth/api-keys.service';
import { CampaignsService } from '../../src/campaigns/campaigns.service';
import { DeliveryPipeline } from '../../src/ingest/delivery-pipeline';
import { DispatcherEventsService } from '../../src/ingest/dispatcher-events.service';
import { createLogger } from '../../src/logger';
import { parseDispatcherEvents } from '../../src/ingest/dispatcher-event.parser';
import { CampaignStore } from '../../src/store/campaign.store';
import { startCampaignsOnFirstEvent } from '../../src/store/campaign-autostart';
import { createDataSource } from '../../src/store/data-source';
import { DeliveryStore } from '../../src/store/delivery.store';
import { WorkspaceStore } from '../../src/store/workspace.store';
import { phones, shuffle } from '../factories/campaign.factory';
import { openTestDatabase } from '../support/database';
import type { DispatcherType } from '../support/lattice-model';
import {
  DISPATCHER_TYPES,
  KIND_OF_DISPATCHER_TYPE,
  contactsOf,
  countCampaign,
  failureReasons,
} from '../support/lattice-model';
import { storedAndRecounted, storedCountersOf } from '../support/recount';

interface RawEvent {
  type: DispatcherType;
  campaign_id: string;
  contact: string;
  timestamp: string;
  error?: { code: number; title: string };
}

function serviceOn(db: DataSource) {
  const store = new CampaignStore(db);
  const deliveries = new DeliveryStore();
  const pipeline = new DeliveryPipeline(db, deliveries, createLogger('silent'), new PostgresChangeFeed());
  return new DispatcherEventsService(db, store, deliveries, pipeline);
}

/** The model's counts and failure reasons for these events over a campaign of `total` contacts. */
function model(events: readonly RawEvent[], total: number) {
  const contacts = contactsOf(
    events.map(
      (e) =>
        [
          e.contact,
          { kind: KIND_OF_DISPATCHER_TYPE[e.type], at: new Date(e.timestamp), ...(e.error ? { error: e.error } : {}) },
        ] as const,
    ),
  );
  return { counts: countCampaign(contacts.values(), total), reasons: failureReasons(contacts.values()) };
}

describe('events applied concurrently from several connections', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const extra: DataSource[] = [];
  let workspaceId: string;
  let campaigns: CampaignsService;

  beforeAll(async () => {
    database = await openTestDatabase(8);
    for (let i = 0; i < 2; i++) {
      const db = createDataSource({ url: database.url, poolSize: 4 });
      await db.initialize();
      extra.push(db);
    }
    workspaceId = (await new ApiKeysService(new WorkspaceStore(database.db)).create('concurrency')).workspaceId;
    campaigns = new CampaignsService(new CampaignStore(database.db));
  });
  afterAll(async () => {
    for (const db of extra) await db.destroy();
    await database.close();
  });

  it('loses no update: counters equal a recount and a model of the events', async () => {
    const seeds = [1, 2, 3];
    for (const seed of seeds) {
      const contacts = phones(150);
      const campaign = await campaigns.create(workspaceId, { name: `c${seed}`, contacts });
      const codes = [131026, 131049, 131000];
      const events: RawEvent[] = fc
        .sample(
          fc.record({
            type: fc.constantFrom(...DISPATCHER_TYPES),
            contact: fc.constantFrom(...contacts.slice(0, 120)),
            minute: fc.integer({ min: 0, max: 59 }),
            code: fc.constantFrom(...codes),
          }),
          { numRuns: 2000, seed },
        )
        .map(({ type, contact, minute, code }) => ({
          type,
          campaign_id: campaign.id,
          contact,
          timestamp: new Date(Date.UTC(2026, 5, 15, 10, minute)).toISOString(),
          ...(type === 'message.failed' ? { error: { code, title: `error ${code}` } } : {}),
        }));
      const withDuplicates = shuffle([...events, ...events.slice(0, 500)], seed);
      const services = [serviceOn(database.db), ...extra.map(serviceOn)];
      const batches: RawEvent[][] = [];
      for (let i = 0; i < withDuplicates.length; i += 25) batches.push(withDuplicates.slice(i, i + 25));
      await Promise.all(
        batches.map((batch, i) =>
          services[i % services.length]!.ingest(workspaceId, parseDispatcherEvents({ events: batch }, new Date())),
        ),
      );
      const { stored, recounted, failureReasonTotal } = await storedAndRecounted(database.db, campaign.id);
      const expected = model(events, 150);
      expect(stored).toEqual(recounted);
      expect(stored).toEqual(storedCountersOf(expected.counts));
      expect(failureReasonTotal).toBe(expected.counts.failed);
      const reasons = await campaigns.failureReasons([campaign.id]);
      expect(new Map(reasons[0]!.map((r) => [r.code, r.count]))).toEqual(expected.reasons);
    }
  });

  it('a campaign locked by a status move or an auto-start leaves references to it free: no cycle with an event batch', async () => {
    // An event batch inserts a failure reason (which checks its campaign, FOR KEY SHARE) after it
    // has locked contacts and counters; a status move, or an add of contacts, locks the campaign
    // and then the counters. Were the campaign locked FOR UPDATE, the two would wait on each other.
    const campaign = await campaigns.create(workspaceId, { name: 'locks', contacts: phones(2) });
    const store = new CampaignStore(database.db);
    const locks: [string, (tx: EntityManager) => Promise<unknown>][] = [
      ['status move', (tx) => store.lockStatus(tx, workspaceId, campaign.id)],
      [
        'auto-start',
        (tx) => startCampaignsOnFirstEvent(tx, [{ contact: { campaignId: campaign.id }, fact: { at: new Date() } }]),
      ],
    ];
    for (const [name, lock] of locks) {
      const holder = database.db.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      const batch = database.db.createQueryRunner();
      await batch.connect();
      await batch.startTransaction();
      try {
        await lock(holder.manager);
        await batch.query(`SET LOCAL lock_timeout = '3s'`);
        await expect(
          batch.query(
            `INSERT INTO campaign_failure_reasons (campaign_id, code, title, contacts) VALUES ($1, 131026, 't', 1)
             RETURNING '${name}' AS done`,
            [campaign.id],
          ),
        ).resolves.toEqual([{ done: name }]);
      } finally {
        await batch.rollbackTransaction();
        await batch.release();
        await holder.rollbackTransaction();
        await holder.release();
      }
    }
  });
});
