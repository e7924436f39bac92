import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Client as WsClient } from 'graphql-ws';
import { createClient } from 'graphql-ws';
import { Client } from 'pg';
import WebSocket from 'ws';
import type { Figure } from './support';
import { benchDatabase, httpRequest, percentile, report, startGateway } from './support';

const INTERVAL_MS = 250;
const SUBSCRIPTION =
  'subscription($id: ID!) { campaignStatsUpdated(campaignId: $id) { sentCount failureReasons { code count } } }';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/**
 * PostgreSQL 15 publishes an idle backend's table statistics up to 10 s late
 * (PGSTAT_IDLE_INTERVAL): wait that long so that a window counts exactly its own reads.
 */
const settleStatistics = () => new Promise((r) => setTimeout(r, 11_000));

/** Stats reads the gateway made: every read loads failure reasons, which nothing else touches here. */
async function statsReads(admin: Client): Promise<number> {
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await admin.query(
    `SELECT coalesce(idx_scan, 0)::bigint AS n FROM pg_stat_user_tables WHERE relname = 'campaign_failure_reasons'`,
  );
  return Number(rows[0].n);
}

function openClients(url: string, key: string, count: number): WsClient[] {
  return Array.from({ length: count }, () =>
    createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 0,
    }),
  );
}

/**
 * Subscribers on `campaigns` (each with `perCampaign` sockets) while `rate` events a second come
 * in for `seconds`, one `message.sent` of a new contact each, spread over the campaigns. The
 * latency of an event is from its acknowledged commit to the first push showing it.
 */
async function scenario(
  gateway: { url: string; key: string },
  admin: Client,
  campaigns: number,
  perCampaign: number,
  rate: number,
  seconds: number,
) {
  const auth = { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' };
  const perCampaignEvents = Math.ceil((rate * seconds) / campaigns);
  const ids: string[] = [];
  const contactsOf: string[][] = [];
  for (let c = 0; c < campaigns; c++) {
    const contacts = Array.from(
      { length: perCampaignEvents },
      (_, i) => `+1${String(2_000_000_000 + c * 100_000 + i)}`,
    );
    const r = await httpRequest(
      `${gateway.url}/graphql`,
      'POST',
      auth,
      JSON.stringify({
        query: 'mutation($c: [String!]!) { createCampaign(input: { name: "live bench", contacts: $c }) { id } }',
        variables: { c: contacts },
      }),
    );
    ids.push((JSON.parse(r.body) as { data: { createCampaign: { id: string } } }).data.createCampaign.id);
    contactsOf.push(contacts);
  }
  const clients = openClients(gateway.url, gateway.key, campaigns * perCampaign);
  // ackAt[c][n]: when the commit making campaign c's sentCount reach n+1 was acknowledged
  const ackAt: number[][] = ids.map(() => []);
  const latencies: number[] = [];
  let ready = 0;
  const disposers = clients.map((client, i) => {
    const c = i % campaigns;
    let seen = 0;
    let first = true;
    return client.subscribe<{ campaignStatsUpdated: { sentCount: number } }>(
      { query: SUBSCRIPTION, variables: { id: ids[c] } },
      {
        next: ({ data }) => {
          const now = performance.now();
          const count = data!.campaignStatsUpdated.sentCount;
          if (first) {
            first = false;
            ready++;
            seen = count;
            return;
          }
          for (let n = seen; n < count; n++) {
            const acked = ackAt[c]![n];
            if (acked !== undefined) latencies.push(Math.max(0, now - acked));
          }
          seen = Math.max(seen, count);
        },
        error: (error) => {
          throw new Error(`subscription failed: ${JSON.stringify(error)}`);
        },
        complete: () => {},
      },
    );
  });
  const deadline = Date.now() + 60_000;
  while (ready < clients.length) {
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${clients.length} subscriptions started`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await settleStatistics();
  const readsBefore = await statsReads(admin);
  const started = performance.now();
  const sentSoFar = ids.map(() => 0);
  const total = rate * seconds;
  const inFlight: Promise<void>[] = [];
  // Open loop: one event every 1000/rate ms, whatever the answers take; each campaign's events
  // go one at a time so that its count after an acknowledgement is known.
  const chains: Promise<void>[] = ids.map(() => Promise.resolve());
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const c = i % campaigns;
    const n = sentSoFar[c]!++;
    const event = { type: 'message.sent', campaign_id: ids[c], contact: contactsOf[c]![n] };
    chains[c] = chains[c]!.then(async () => {
      const r = await httpRequest(`${gateway.url}/api/v1/events`, 'POST', auth, JSON.stringify(event));
      if (r.status !== 200) throw new Error(`event answered ${r.status}: ${r.body}`);
      ackAt[c]![n] = performance.now();
    });
    inFlight.push(chains[c]);
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, INTERVAL_MS * 4)); // the last pushes
  const window = elapsed + (INTERVAL_MS * 4) / 1000;
  await settleStatistics();
  const reads = (await statsReads(admin)) - readsBefore;
  for (const dispose of disposers) dispose();
  for (const client of clients) await client.dispose();
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    samples: latencies.length,
    readsPerSecond: reads / window,
    achievedRate: total / elapsed,
  };
}

async function idleSubscriptions(gateway: { url: string; key: string; pid: number }, count: number) {
  const auth = { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' };
  const r = await httpRequest(
    `${gateway.url}/graphql`,
    'POST',
    auth,
    JSON.stringify({
      query: 'mutation { createCampaign(input: { name: "idle", contacts: ["+15550001111"] }) { id } }',
    }),
  );
  const id = (JSON.parse(r.body) as { data: { createCampaign: { id: string } } }).data.createCampaign.id;
  global.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = rssMb(gateway.pid);
  const perSocket = 50;
  const clients = openClients(gateway.url, gateway.key, count / perSocket);
  let ready = 0;
  const disposers = clients.flatMap((client) =>
    Array.from({ length: perSocket }, () =>
      client.subscribe(
        { query: SUBSCRIPTION, variables: { id } },
        {
          next: () => void ready++,
          error: (error) => {
            throw new Error(JSON.stringify(error));
          },
          complete: () => {},
        },
      ),
    ),
  );
  const deadline = Date.now() + 120_000;
  while (ready < count) {
    if (Date.now() > deadline) throw new Error(`only ${ready} of ${count} idle subscriptions started`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const after = rssMb(gateway.pid);
  for (const dispose of disposers) dispose();
  for (const client of clients) await client.dispose();
  return { before, after };
}

export async function runLiveBenchmark(): Promise<void> {
  const database = await benchDatabase();
  const gateway = await startGateway(database.url, { STATS_PUSH_INTERVAL_MS: String(INTERVAL_MS) });
  const admin = new Client({ connectionString: database.url });
  await admin.connect();
  try {
    // Memory first, on a gateway that has served nothing else yet.
    const idle = await idleSubscriptions({ ...gateway, pid: gateway.child.pid! }, 10_000);
    const one = await scenario(gateway, admin, 1, 1000, 1000, 10);
    const spread = await scenario(gateway, admin, 100, 10, 1000, 10);
    const few = await scenario(gateway, admin, 1, 10, 1000, 5);
    const figures: Figure[] = [
      { name: '1 campaign x 1,000 subscribers: commit-to-receipt p50', value: one.p50, unit: 'ms' },
      {
        name: '1 campaign x 1,000 subscribers: commit-to-receipt p99',
        value: one.p99,
        unit: 'ms',
        target: `<= ${INTERVAL_MS + 250} ms`,
        met: one.p99 <= INTERVAL_MS + 250,
      },
      {
        name: '1 campaign x 1,000 subscribers: stats reads/s',
        value: one.readsPerSecond,
        unit: 'reads/s',
        baseline: '1 campaign x 10 subscribers',
        baselineValue: few.readsPerSecond,
        ratio: one.readsPerSecond / few.readsPerSecond,
        target: 'independent of subscribers (~1x)',
        met: one.readsPerSecond / few.readsPerSecond < 1.5,
      },
      { name: '100 campaigns x 10 subscribers: commit-to-receipt p50', value: spread.p50, unit: 'ms' },
      {
        name: '100 campaigns x 10 subscribers: commit-to-receipt p99',
        value: spread.p99,
        unit: 'ms',
        target: `<= ${INTERVAL_MS + 250} ms`,
        met: spread.p99 <= INTERVAL_MS + 250,
      },
      {
        name: '100 campaigns x 10 subscribers: stats reads/s',
        value: spread.readsPerSecond,
        unit: 'reads/s',
        target: `<= 100 campaigns x ${1000 / INTERVAL_MS}/s`,
        met: spread.readsPerSecond <= 100 * (1000 / INTERVAL_MS) * 1.1,
      },
      {
        name: '10,000 idle subscriptions: gateway RSS',
        value: idle.after,
        unit: 'MB',
        baseline: 'RSS before',
        baselineValue: idle.before,
        ratio: idle.after / idle.before,
        target: '<= 300 MB',
        met: idle.after <= 300,
      },
    ];
    report('live', figures, {
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}`,
      pushIntervalMs: INTERVAL_MS,
      eventsPerSecond: { oneCampaign: one.achievedRate, spread: spread.achievedRate },
      latencySamples: { oneCampaign: one.samples, spread: spread.samples },
    });
  } finally {
    await admin.end();
    await gateway.stop();
    await database.close();
  }
}
