import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';
import type { App } from '../../src/app';
import { ApiKeysService } from '../../src/auth/api-keys.service';
import { WhatsAppNumbersService } from '../../src/auth/whatsapp-numbers.service';
import { CampaignsService } from '../../src/campaigns/campaigns.service';
import { CampaignStore } from '../../src/store/campaign.store';
import { WorkspaceStore } from '../../src/store/workspace.store';
import { buildApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { openDatabase } from '../../src/store/data-source';
import { reconcileCampaigns } from '../../src/store/reconcile.store';
import { phones } from '../factories/campaign.factory';
import { createTestDatabase } from '../support/database';
import { postEvents } from '../support/http';
import type { ModelFact } from '../support/lattice-model';
import { contactsOf, countCampaign } from '../support/lattice-model';
import { storedCountersOf } from '../support/recount';
import type { SenderLog } from '../support/retrying-sender';
import { sendUntilAcknowledged } from '../support/retrying-sender';
import { startTcpProxy } from '../support/tcp-proxy';
import { TEST_APP_CONFIG, TEST_APP_SECRET } from '../support/test-app';
import { TEST_PHONE_NUMBER_ID, webhookBody } from '../support/whatsapp';

const BASE = 1781517900;
const STATUSES = ['delivered', 'read', 'failed'] as const;

/** Webhook bodies of random statuses over `contacts` registered ids, some resent, and the model of them. */
function traffic(prefix: string, contacts: number, requests: number, seed: number) {
  const items = fc.sample(
    fc.array(
      fc.record({
        contact: fc.integer({ min: 0, max: contacts - 1 }),
        status: fc.constantFrom(...STATUSES),
        offset: fc.integer({ min: 1, max: 3000 }),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    { numRuns: requests, seed },
  );
  const bodies = items.map((statuses) =>
    webhookBody(
      statuses.map((s) => ({
        id: `${prefix}.${s.contact}`,
        status: s.status,
        timestamp: BASE + s.offset,
        ...(s.status === 'failed' ? { error: { code: 131026, title: 'Message undeliverable' } } : {}),
      })),
    ),
  );
  // Every contact registered (sent), then the statuses.
  const facts: (readonly [number, ModelFact])[] = Array.from({ length: contacts }, (_, c) => [
    c,
    { kind: 'SENT', at: new Date(BASE * 1000) },
  ]);
  for (const s of items.flat()) {
    const at = new Date((BASE + s.offset) * 1000);
    facts.push([
      s.contact,
      s.status === 'failed'
        ? { kind: 'FAILED', at, error: { code: 131026, title: 'Message undeliverable' } }
        : { kind: s.status === 'read' ? 'READ' : 'DELIVERED', at },
    ]);
  }
  const expected = storedCountersOf(countCampaign(contactsOf(facts).values(), contacts));
  // Every body twice, as Meta's retries of acknowledged deliveries would.
  return { bodies: [...bodies, ...bodies.filter((_, i) => i % 2 === 0)], expected };
}

/** Resolves once the sender has made `n` attempts. */
async function untilAttempts(log: SenderLog, n: number): Promise<void> {
  while (log.attempts < n) await new Promise((r) => setTimeout(r, 5));
}

async function registerContacts(url: string, key: string, campaignId: string, contacts: string[], prefix: string) {
  const events = contacts.map((contact, i) => ({
    type: 'message.sent',
    campaign_id: campaignId,
    contact,
    message_id: `${prefix}.${i}`,
    timestamp: new Date(BASE * 1000).toISOString(),
  }));
  const r = await postEvents(url, key, { events });
  expect(r.status).toBe(200);
}

async function counters(db: DataSource, campaignId: string) {
  const [row] = await db.query(
    `SELECT total_contacts, touched, sent, delivered, read, clicked, replied, failed FROM campaign_counters WHERE campaign_id = $1`,
    [campaignId],
  );
  return row;
}

describe('faults: nothing acknowledged is lost, nothing is counted twice', () => {
  it('database unreachable (503, /readyz says so) and connections killed mid-ingestion', async () => {
    const database = await createTestDatabase();
    const direct = await openDatabase({ url: database.url, poolSize: 2, applicationName: 'fault-test-admin' });
    const proxy = await startTcpProxy(database.url);
    const db = await openDatabase({ url: proxy.url, poolSize: 6 });
    const app: App = await buildApp({ ...TEST_APP_CONFIG, whatsappVerifyToken: null }, db, createLogger('silent'));
    const url = await app.start(0);
    try {
      const { key, workspaceId } = await app.services.keys.create('faults');
      await app.services.whatsAppNumbers.add(TEST_PHONE_NUMBER_ID, 'faults'); // the number of webhookBody()
      const contacts = phones(60);
      const { id } = await app.services.campaigns.create(workspaceId, { name: 'faults', contacts });
      await registerContacts(url, key, id, contacts, 'wamid.fault');
      const { bodies, expected } = traffic('wamid.fault', 60, 400, 7);
      const log: SenderLog = { attempts: 0, failures: new Map() };
      const sending = sendUntilAcknowledged(() => url, bodies, 6, log);
      sending.catch(() => {}); // awaited below; a failure before that must not go unhandled

      await untilAttempts(log, 60); // mid-ingestion, whatever the machine's speed
      proxy.cut();
      await new Promise((r) => setTimeout(r, 300));
      const ready = await fetch(`${url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([503, { status: 'unavailable', database: 'down' }]);
      await new Promise((r) => setTimeout(r, 700));
      proxy.restore();
      let killed = 0;
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 150));
        const [row] = await direct.query(
          `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'campaign-stats-gateway'`,
        );
        killed += row.n as number;
      }
      await sending;

      expect(killed).toBeGreaterThan(0);
      expect(log.failures.get(503) ?? 0).toBeGreaterThan(0);
      for (const status of log.failures.keys()) expect(status).toBeGreaterThanOrEqual(500); // never a 4xx
      expect(await counters(direct, id)).toEqual(expected);
      const [report] = await reconcileCampaigns(direct, { campaignId: id, fix: false });
      expect(report!.drift).toBe(false);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
    } finally {
      await app.stop();
      await db.destroy().catch(() => {});
      await proxy.stop();
      await direct.destroy();
      await database.drop();
    }
  });

  it('the gateway killed with SIGKILL mid-batch and started again', async () => {
    const database = await createTestDatabase();
    const direct = await openDatabase({ url: database.url, poolSize: 2, applicationName: 'fault-test-admin' });
    const children: ChildProcess[] = [];
    let current: string | null = null;
    const start = () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const child = spawn('node', ['-r', '@swc-node/register', 'src/main.ts'], {
          cwd: join(__dirname, '..', '..'),
          env: {
            ...process.env,
            DATABASE_URL: database.url,
            PORT: '0',
            HOST: '127.0.0.1',
            LOG_LEVEL: 'info',
            WHATSAPP_APP_SECRET: TEST_APP_SECRET,
            RATE_LIMIT_RPS: '0',
          },
        });
        children.push(child);
        let output = '';
        child.stdout.on('data', (c: Buffer) => {
          output += c.toString();
          const m = /"url":"([^"]+)"[^\n]*"msg":"gateway.listening"/.exec(output);
          if (m) {
            current = m[1]!;
            resolve(child);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      });
    try {
      await start();
      const { key, workspaceId } = await new ApiKeysService(new WorkspaceStore(direct)).create('sigkill');
      await new WhatsAppNumbersService(direct).add(TEST_PHONE_NUMBER_ID, 'sigkill'); // the number of webhookBody()
      const contacts = phones(60);
      const { id } = await new CampaignsService(new CampaignStore(direct)).create(workspaceId, { name: 'k', contacts });
      await registerContacts(current!, key, id, contacts, 'wamid.kill');
      const { bodies, expected } = traffic('wamid.kill', 60, 500, 11);
      const log: SenderLog = { attempts: 0, failures: new Map() };
      const sending = sendUntilAcknowledged(() => current, bodies, 6, log);
      sending.catch(() => {});
      await untilAttempts(log, 100); // mid-ingestion, whatever the machine's speed
      const victim = children.at(-1)!;
      current = null;
      victim.kill('SIGKILL');
      await new Promise((r) => victim.once('exit', r));
      await start();
      await sending;

      expect(log.failures.get(0) ?? 0).toBeGreaterThan(0); // requests cut by the kill were retried
      expect(await counters(direct, id)).toEqual(expected);
      const [report] = await reconcileCampaigns(direct, { campaignId: id, fix: false });
      expect(report!.drift).toBe(false);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await direct.destroy();
      await database.drop();
    }
  });
});
