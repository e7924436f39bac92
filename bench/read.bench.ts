import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import { Client } from 'pg';
import 'reflect-metadata';
import { buildApp } from '../src/app';
import type { DeliveryCounters } from '../src/domain/delivery-lattice';
import { COUNTER_NAMES, Evidence } from '../src/domain/delivery-lattice';
import { newCampaignId } from '../src/domain/identifiers';
import { hashApiKey } from '../src/domain/api-key';
import { createLogger } from '../src/logger';
import { openDatabase } from '../src/store/data-source';
import { RECOUNT_COLUMNS, countsInSql } from '../src/store/lattice.sql';
import type { Figure } from './support';
import { ROOT, against, benchDatabase, httpRequest, report, startBaselineServer, startGateway } from './support';

const run = promisify(execFile);
const CONNECTIONS = 16;
const SECONDS = 6;

interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** autocannon in a process of its own (the gateway must not share its event loop with the load). */
export async function load(
  url: string,
  options: { headers?: Record<string, string>; method?: string; body?: string } = {},
) {
  const args = ['autocannon', '-j', '-c', String(CONNECTIONS), '-d', String(SECONDS)];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push('-H', `${name}=${value}`);
  if (options.method) args.push('-m', options.method);
  if (options.body) args.push('-b', options.body);
  args.push(url);
  const warm = [...args];
  warm[warm.indexOf('-d') + 1] = '2';
  await run('npx', warm, { cwd: ROOT, maxBuffer: 1 << 24 });
  const { stdout } = await run('npx', args, { cwd: ROOT, maxBuffer: 1 << 24 });
  const result = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  };
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  } satisfies LoadResult;
}

/** A campaign loaded in bulk with a realistic spread of flags, its counters set by a recount. */
export async function bulkCampaign(admin: Client, workspaceId: string, contacts: number): Promise<string> {
  const id = newCampaignId();
  await admin.query(
    `INSERT INTO campaigns (id, workspace_id, name, status, started_at) VALUES ($1, $2, $3, 'running', now())`,
    [id, workspaceId, `bulk ${contacts}`],
  );
  // flags: 3% failed only, 3% sent only, then delivered / read / clicked / replied mixes
  const { SENT: S, DELIVERED: D, READ: R, CLICKED: C, REPLIED: P, FAILED: F } = Evidence;
  await admin.query(
    `INSERT INTO campaign_contacts (campaign_id, phone, flags, first_sent_at)
     SELECT $1, '+1' || (3000000000 + g)::text,
            CASE WHEN g % 100 < 3 THEN ${F} WHEN g % 100 < 6 THEN ${S} WHEN g % 100 < 40 THEN ${S | D}
                 WHEN g % 100 < 80 THEN ${S | D | R} WHEN g % 100 < 95 THEN ${S | D | R | C} ELSE ${S | D | R | P} END,
            now()
     FROM generate_series(1, $2) AS g`,
    [id, contacts],
  );
  await admin.query(
    `INSERT INTO campaign_counters (campaign_id, total_contacts, ${COUNTER_NAMES.join(', ')})
     SELECT $1, ${RECOUNT_COLUMNS}
     FROM campaign_contacts WHERE campaign_id = $1`,
    [id],
  );
  await admin.query('ANALYZE campaign_contacts');
  return id;
}

/** One client, one request at a time: the latency of a single stats read, median of 300. */
export async function sequentialMs(url: string, headers: Record<string, string>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    const r = await httpRequest(url, 'GET', headers);
    times.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`stats answered ${r.status}`);
  }
  return times.sort((a, b) => a - b)[150]!;
}

/** The counters an aggregate-on-read system would count at every read. */
const RECOUNTED: (keyof DeliveryCounters)[] = ['sent', 'delivered', 'read', 'clicked', 'replied', 'failed'];

/** What aggregate-on-read systems do: count the contacts at every read. Median of 5. */
async function recountMs(admin: Client, campaignId: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await admin.query(
      `SELECT ${RECOUNTED.map((name) => `count(*) FILTER (WHERE ${countsInSql(name)}) AS ${name}`).join(', ')}
       FROM campaign_contacts WHERE campaign_id = $1`,
      [campaignId],
    );
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[2]!;
}

/** SQL statements one `campaigns(first: N)` request runs, stats and failure reasons included. */
async function statementsPerPage(databaseUrl: string, key: string): Promise<Record<number, number>> {
  const db = await openDatabase({ url: databaseUrl, poolSize: 4 });
  const app = await buildApp(
    {
      rateLimitRps: 0,
      rateLimitBurst: 0,
      nodeEnv: 'production',
      host: '127.0.0.1',
      whatsappAppSecret: null,
      whatsappVerifyToken: null,
      parkedRetentionHours: 168,
      statsPushIntervalMs: 250,
      redisUrl: null,
    },
    db,
    createLogger('silent'),
  );
  const url = await app.start(0);
  const query =
    'query($n: Int) { campaigns(first: $n) { edges { node { id stats { sentCount failureReasons { code count } } } } } }';
  const ask = (n: number) =>
    fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables: { n } }),
    }).then((r) => r.json());
  const counts: Record<number, number> = {};
  await ask(1); // the key lookup is cached after this
  // Counted where every statement goes, whatever sends it (raw SQL, repositories, the pg pool).
  const original = Client.prototype.query;
  let statements = 0;
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    statements++;
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  try {
    for (const n of [5, 20, 50]) {
      statements = 0;
      await ask(n);
      counts[n] = statements;
    }
  } finally {
    Client.prototype.query = original;
  }
  await app.stop();
  await db.destroy();
  return counts;
}

export async function runReadBenchmark(): Promise<void> {
  const database = await benchDatabase();
  const gateway = await startGateway(database.url, { DATABASE_POOL_SIZE: '10' });
  const admin = new Client({ connectionString: database.url });
  await admin.connect();
  const baselines: ChildProcess[] = [];
  try {
    // The workspace of the bench's own key (a start may have made others, e.g. a demo).
    const keyRows = (
      await admin.query(`SELECT workspace_id FROM api_keys WHERE key_hash = $1`, [hashApiKey(gateway.key)])
    ).rows as { workspace_id: string }[];
    const workspaceId = keyRows[0]!.workspace_id;
    const small = await bulkCampaign(admin, workspaceId, 1_000);
    const large = await bulkCampaign(admin, workspaceId, 1_000_000);
    for (let i = 0; i < 60; i++) await bulkCampaign(admin, workspaceId, 10); // something to page through
    const auth = { authorization: `Bearer ${gateway.key}` };

    const restSmall = await load(`${gateway.url}/api/v1/campaigns/${small}/stats`, { headers: auth });
    const restLarge = await load(`${gateway.url}/api/v1/campaigns/${large}/stats`, { headers: auth });
    const recount = await recountMs(admin, large);
    const single = await sequentialMs(`${gateway.url}/api/v1/campaigns/${large}/stats`, auth);
    const graphql = await load(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        query: `query($id: ID!) { campaignStats(campaignId: $id) { campaignId name campaignStatus totalContacts sentCount deliveredCount readCount clickedCount failedCount repliedCount successCount createdAt scheduledAt startedAt completedAt } }`,
        variables: { id: large },
      }),
    });
    const sql = await startBaselineServer(['sql', database.url, '10']);
    baselines.push(sql.child);
    const sameSql = await load(`${sql.url}/api/v1/campaigns/${large}/stats/${workspaceId}`);
    const constant = await startBaselineServer(['constant', database.url, '10']);
    baselines.push(constant.child);
    const nodeLimit = await load(`${constant.url}/`);
    const pages = await statementsPerPage(database.url, gateway.key);

    const errors = [restSmall, restLarge, graphql, sameSql, nodeLimit].reduce((n, r) => n + r.errors, 0);
    if (errors > 0) throw new Error(`${errors} failed requests under load`);
    const figures: Figure[] = [
      {
        name: 'REST stats, 1,000 contacts',
        value: restSmall.rps,
        unit: `req/s (p50 ${restSmall.p50} ms, p99 ${restSmall.p99} ms)`,
      },
      {
        name: 'REST stats, 1,000,000 contacts',
        value: restLarge.rps,
        unit: `req/s (p50 ${restLarge.p50} ms, p99 ${restLarge.p99} ms)`,
        baseline: '1,000 contacts',
        baselineValue: restSmall.rps,
        ratio: restSmall.rps / restLarge.rps,
        target: 'large within 1.25x of small',
        met: restSmall.rps / restLarge.rps <= 1.25,
      },
      against(
        {
          name: 'recount, 1,000,000 contacts (COUNT FILTER)',
          value: recount,
          unit: 'ms per read',
          baseline: 'one REST stats read at 1,000,000, over HTTP (median)',
          baselineValue: single,
          target: 'stats read >= 50x faster',
        },
        { atLeast: 50 },
      ),
      against(
        {
          name: 'GraphQL campaignStats',
          value: graphql.rps,
          unit: 'req/s',
          baseline: 'node:http + same SQL',
          baselineValue: sameSql.rps,
          target: '>= 0.5x',
        },
        { atLeast: 0.5 },
      ),
      against(
        {
          name: 'REST stats',
          value: restLarge.rps,
          unit: 'req/s',
          baseline: 'node:http + same SQL',
          baselineValue: sameSql.rps,
          target: '>= 0.7x',
        },
        { atLeast: 0.7 },
      ),
      { name: 'node:http constant JSON (Node limit)', value: nodeLimit.rps, unit: 'req/s' },
      {
        name: 'campaigns(first: 50) SQL statements',
        value: pages[50]!,
        unit: 'statements',
        baseline: 'first: 5',
        baselineValue: pages[5]!,
        ratio: pages[50]! / pages[5]!,
        target: 'constant in first',
        met: pages[50] === pages[5] && pages[20] === pages[5],
      },
    ];
    report('read', figures, {
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}`,
      load: `autocannon, ${CONNECTIONS} connections, ${SECONDS} s after a 2 s warm-up, in its own process`,
      recountMs: recount,
    });
  } finally {
    for (const child of baselines) child.kill('SIGTERM');
    await admin.end();
    await gateway.stop();
    await database.close();
  }
}
