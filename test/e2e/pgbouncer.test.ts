import { TEST_PHONE_NUMBER_ID } from '../support/whatsapp-number';
import type { DataSource } from 'typeorm';
import type { App } from '../../src/app';
import { buildApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { openDatabase } from '../../src/store/data-source';
import { phones } from '../factories/campaign.factory';
import { createTestDatabase } from '../support/database';
import { gql, postEvents, restStats } from '../support/http';
import { Recorder, STATS_SUBSCRIPTION, liveClient } from '../support/live';
import type { PgBouncer } from '../support/pgbouncer';
import { startPgBouncer } from '../support/pgbouncer';
import { startTcpProxy } from '../support/tcp-proxy';
import { TEST_APP_CONFIG } from '../support/test-app';
import { postWebhook, webhookBody } from '../support/whatsapp';

// The gateway behind Debian's PgBouncer 1.18 in transaction mode (DATABASE_POOL_MODE=transaction),
// LISTEN over a direct DATABASE_LISTEN_URL. PgBouncer keeps only 3 server connections under the
// app's pool of 10, so consecutive queries of one client connection land on different server
// sessions: a named prepared statement or any session state would be lost between them.
describe('behind PgBouncer in transaction mode', () => {
  let database: { url: string; drop(): Promise<void> };
  let bouncer: PgBouncer;
  // DATABASE_LISTEN_URL goes through a TCP proxy of the test's own, to show LISTEN takes that road.
  let direct: Awaited<ReturnType<typeof startTcpProxy>>;
  let db: DataSource;
  let app: App;
  let url: string;
  let key: string;
  let workspaceId: string;
  const warnings: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    bouncer = await startPgBouncer(database.url, 3);
    direct = await startTcpProxy(database.url);
    // Migrated through PgBouncer too: every migration is one transaction.
    db = await openDatabase({ url: bouncer.urlFor(database.url), poolSize: 10, poolMode: 'transaction' }, (m) =>
      warnings.push(m),
    );
    app = await buildApp({ ...TEST_APP_CONFIG, databaseListenUrl: direct.url }, db, createLogger('silent'));
    url = await app.start(0);
    ({ key, workspaceId } = await app.services.keys.create('bounced'));
    // The webhooks below come from the fixtures' number: it speaks for this workspace.
    await app.services.whatsAppNumbers.add(TEST_PHONE_NUMBER_ID, 'bounced');
  });
  afterAll(async () => {
    await app?.stop();
    if (db?.isInitialized) await db.destroy();
    await bouncer?.stop();
    await direct?.stop();
    await database?.drop();
  });

  it('in session mode, the start fails as it does today: PgBouncer refuses the statement_timeout startup parameter', async () => {
    await expect(openDatabase({ url: bouncer.urlFor(database.url), poolSize: 1 })).rejects.toThrow(
      /unsupported startup parameter: statement_timeout/,
    );
  });

  it('warns at start when the role has no statement_timeout (no startup parameter can carry it here)', () => {
    expect(warnings).toEqual([
      expect.stringMatching(
        /statement_timeout is off for role postgres: set it with ALTER ROLE postgres SET statement_timeout/,
      ),
    ]);
  });

  it('serves stats over REST and GraphQL under concurrent reads (no named statement survives a server switch)', async () => {
    const contacts = phones(4);
    const { id } = await app.services.campaigns.create(workspaceId, { name: 'bounced', contacts });
    const events = contacts.slice(0, 3).map((contact) => ({ type: 'message.sent', campaign_id: id, contact }));
    expect((await postEvents(url, key, { events })).status).toBe(200);
    expect((await postEvents(url, key, { type: 'message.read', campaign_id: id, contact: contacts[0] })).status).toBe(
      200,
    );
    const reads = await Promise.all(Array.from({ length: 60 }, () => restStats(url, key, id)));
    for (const read of reads) {
      expect(read.status).toBe(200);
      expect(read.json).toMatchObject({ total_contacts: 4, sent_count: 3, delivered_count: 1, read_count: 1 });
    }
    const queries = await Promise.all(
      Array.from({ length: 20 }, () =>
        gql(url, key, `query($id: ID!) { campaignStats(campaignId: $id) { totalContacts sentCount readCount } }`, {
          id,
        }),
      ),
    );
    for (const query of queries) {
      expect(query.body.errors).toBeUndefined();
      expect(query.body.data).toEqual({ campaignStats: { totalContacts: 4, sentCount: 3, readCount: 1 } });
    }
    // another workspace's campaign stays a 404 through the pooler as well
    const stranger = await app.services.keys.create('stranger');
    expect((await restStats(url, stranger.key, id)).status).toBe(404);
  });

  it('applies WhatsApp webhooks (advisory locks are transaction-scoped)', async () => {
    const contacts = phones(20);
    const { id } = await app.services.campaigns.create(workspaceId, { name: 'webhooks', contacts });
    const bodies = contacts.map((contact, i) =>
      webhookBody([
        { id: `wamid.pgb${i}`, status: 'delivered', timestamp: 1781517905, recipient: contact, callback: id },
      ]),
    );
    const answers = await Promise.all(bodies.map((body) => postWebhook(url, body)));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 200));
    expect((await restStats(url, key, id)).json).toMatchObject({ sent_count: 20, delivered_count: 20 });
  });

  it('pushes live stats: NOTIFY in the pooled transaction, LISTEN on the direct connection', async () => {
    const contacts = phones(2);
    const { id } = await app.services.campaigns.create(workspaceId, { name: 'live', contacts });
    const live = liveClient(url, key);
    const recorder = new Recorder(live.client, STATS_SUBSCRIPTION, { id });
    try {
      await recorder.until((r) => r.values.length >= 1);
      expect(recorder.values[0].campaignStatsUpdated).toMatchObject({ sentCount: 0, totalContacts: 2 });
      await postEvents(url, key, { type: 'message.delivered', campaign_id: id, contact: contacts[1] });
      await recorder.until((r) => r.last().campaignStatsUpdated.deliveredCount === 1);
      expect(app.services.listener.reconnects).toBe(0);
      // Cutting DATABASE_LISTEN_URL (not PgBouncer) is what the listener feels.
      direct.cut();
      await new Promise((resolve) => setTimeout(resolve, 200));
      direct.restore();
      for (let i = 0; i < 100 && app.services.listener.reconnects === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(app.services.listener.reconnects).toBe(1);
      await postEvents(url, key, { type: 'message.read', campaign_id: id, contact: contacts[0] });
      await recorder.until((r) => r.last().campaignStatsUpdated.readCount === 1);
    } finally {
      recorder.stop();
      await live.client.dispose();
    }
  });
});
