import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { Client, Pool } from 'pg';
import type { DeliveryCounters } from '../src/domain/delivery-lattice';
import { signWhatsAppBody } from '../src/ingest/whatsapp.signature';
import { countsInSql } from '../src/store/lattice.sql';
import type { Figure } from './support';
import { against, benchDatabase, httpRequest, percentile, report, startBaselineServer, startGateway } from './support';

export const SECRET = 'bench-app-secret';
/** senders of 100-status requests (and clients of the naive baseline and of the ceiling) */
export const SENDERS = 8;
/** senders of 1-status requests: Meta's usual shape, many connections at once */
export const SINGLE_SENDERS = 64;
/** requests per sender in the 1-status phases (the gateway's and the bare receiver's) */
const SINGLE_REQUESTS = 200;
/** contacts the statuses go to: message ids `<prefix>0` … `<prefix>19999` */
export const CONTACTS = 20_000;
const BASE = 1781517900;
const STATUSES = ['delivered', 'read', 'failed', 'sent'] as const;
/** The counters the run's statuses move, checked against a recount at the end. */
const CHECKED: (keyof DeliveryCounters)[] = ['sent', 'delivered', 'read', 'failed'];

/** A seeded 32-bit xorshift: exact in JavaScript numbers, unlike a multiplicative LCG. */
function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) & 0x7fffffff;
  };
}

/** The business number the statuses come through: bound to the bench key's workspace. */
export const PHONE_NUMBER_ID = '300000000000003';

function body(count: number, next: () => number, prefix: string): string {
  const statuses = Array.from({ length: count }, () => {
    const n = next();
    const status = STATUSES[n % 4]!;
    return {
      id: `${prefix}${n % CONTACTS}`,
      status,
      timestamp: String(BASE + (n % 3600)),
      recipient_id: '16505550000',
      ...(status === 'failed' ? { errors: [{ code: 131026, title: 'Message undeliverable' }] } : {}),
    };
  });
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '1',
        changes: [
          {
            field: 'messages',
            value: { messaging_product: 'whatsapp', metadata: { phone_number_id: PHONE_NUMBER_ID }, statuses },
          },
        ],
      },
    ],
  });
}

/**
 * `senders` closed-loop senders, `requests` each; statuses per second and ack latency. Statuses
 * name message ids `<prefix>0` to `<prefix>19999` (registered contacts) through the bench's number.
 */
export async function closedLoop(
  url: string,
  perRequest: number,
  requests: number,
  seed: number,
  senders = SENDERS,
  prefix = 'wamid.bench.',
) {
  const next = xorshift(seed);
  // Bodies and signatures made before the clock starts: the load generator shares the 2 cores.
  const prepared = Array.from({ length: senders }, () =>
    Array.from({ length: requests }, () => {
      const text = body(perRequest, next, prefix);
      return { text, signature: signWhatsAppBody(text, SECRET) };
    }),
  );
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    prepared.map(async (mine) => {
      for (const { text, signature } of mine) {
        const t0 = performance.now();
        const r = await httpRequest(
          `${url}/webhooks/whatsapp`,
          'POST',
          { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          text,
        );
        latencies.push(performance.now() - t0);
        if (r.status !== 200) throw new Error(`webhook answered ${r.status}: ${r.body}`);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: (senders * requests * perRequest) / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Open loop: one status per request at `rate` a second for `seconds`, whatever the answers take. */
async function paced(url: string, rate: number, seconds: number) {
  const next = xorshift(7);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < rate * seconds; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const text = body(1, next, 'wamid.bench.');
    const t0 = performance.now();
    pending.push(
      httpRequest(
        `${url}/webhooks/whatsapp`,
        'POST',
        {
          'content-type': 'application/json',
          'x-hub-signature-256': signWhatsAppBody(text, SECRET),
        },
        text,
      ).then((r) => {
        latencies.push(performance.now() - t0);
        if (r.status !== 200) throw new Error(`webhook answered ${r.status}`);
      }),
    );
  }
  await Promise.all(pending);
  const achieved = (rate * seconds) / ((performance.now() - started) / 1000);
  latencies.sort((a, b) => a - b);
  return { achieved, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** What a naive design gets: one transaction per status, each bumping one hot counter row. */
async function naiveBaseline(url: string, perClient: number) {
  const pool = new Pool({ connectionString: url, max: SENDERS });
  await pool.query(`CREATE TABLE bench_hot_counter (id int PRIMARY KEY, sent int NOT NULL)`);
  await pool.query(`INSERT INTO bench_hot_counter VALUES (1, 0)`);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      const client = await pool.connect();
      try {
        for (let i = 0; i < perClient; i++) {
          await client.query('BEGIN');
          await client.query(`UPDATE bench_hot_counter SET sent = sent + 1 WHERE id = 1`);
          await client.query('COMMIT');
        }
      } finally {
        client.release();
      }
    }),
  );
  const perSecond = (SENDERS * perClient) / ((performance.now() - started) / 1000);
  await pool.end();
  return perSecond;
}

/** A bare node:http receiver (HMAC check and JSON parse, nothing stored), in a process of its own. */
async function startBareReceiver(): Promise<{ url: string; pid?: number; stop(): void }> {
  const { url, child } = await startBaselineServer(['webhook', SECRET]);
  return { url, pid: child.pid, stop: () => child.kill('SIGTERM') };
}

/** CPU spent per request during a phase, in microseconds, by who spent it. */
interface CpuUse {
  /** the receiver measured (the gateway, or the bare receiver) */
  receiver: number;
  /** every PostgreSQL process on the machine */
  postgres: number;
  /** this process: the load generator */
  client: number;
  /** the share of the machine's cores busy (all processes), 0-1 */
  machineBusy: number;
}

/** Linux /proc accounting: user + system ticks of a process (0 when it is gone or not Linux). */
function ticksOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

function postgresTicks(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('postgres')) ticks += ticksOf(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

function machineTicks(): { busy: number; all: number } {
  const times = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const all = times.reduce((a, b) => a + b, 0);
  return { busy: all - times[3]! - times[4]!, all };
}

/** Starts counting CPU for a phase; `read(requests)` gives what each request cost (ticks are 10 ms). */
function cpuMeter(receiverPid: number | undefined) {
  const tick = 10_000;
  const start = {
    receiver: ticksOf(receiverPid),
    postgres: postgresTicks(),
    client: process.cpuUsage(),
    machine: machineTicks(),
  };
  return {
    read(requests: number): CpuUse {
      const client = process.cpuUsage(start.client);
      const machine = machineTicks();
      return {
        receiver: ((ticksOf(receiverPid) - start.receiver) * tick) / requests,
        postgres: ((postgresTicks() - start.postgres) * tick) / requests,
        client: (client.user + client.system) / requests,
        machineBusy: (machine.busy - start.machine.busy) / Math.max(1, machine.all - start.machine.all),
      };
    },
  };
}

/**
 * The same-shape ceiling of the batched path: the read-modify-write the gateway does, and nothing
 * else. A copy of the campaign's contacts (same columns, indexes and fillfactor); each of `clients`
 * clients updates 500 distinct existing rows per statement (`UPDATE … FROM unnest(…)`, one
 * transaction each), its own slice of the rows so that no two clients wait on each other.
 */
async function sameShapeCeiling(url: string, campaignId: string, clients: number, batchesPerClient: number) {
  const pool = new Pool({ connectionString: url, max: clients });
  await pool.query(`CREATE TABLE bench_contacts (LIKE campaign_contacts INCLUDING ALL) WITH (fillfactor = 80)`);
  await pool.query(
    `INSERT INTO bench_contacts OVERRIDING SYSTEM VALUE SELECT * FROM campaign_contacts WHERE campaign_id = $1`,
    [campaignId],
  );
  await pool.query(`VACUUM ANALYZE bench_contacts`);
  const ids = ((await pool.query(`SELECT id FROM bench_contacts ORDER BY id`)).rows as { id: string }[]).map(
    (r) => r.id,
  );
  const cpu = cpuMeter(undefined);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, k) => {
      const mine = ids.filter((_, i) => i % clients === k);
      for (let b = 0; b < batchesPerClient; b++) {
        const from = (b * 500) % Math.max(1, mine.length - 500);
        const batch = mine.slice(from, from + 500);
        const flags = batch.map((_, i) => 1 << (i % 4));
        const times = batch.map((_, i) => new Date((BASE + b * 500 + i) * 1000));
        await pool.query(
          `UPDATE bench_contacts c SET flags = c.flags | v.flags,
             first_delivered_at = coalesce(c.first_delivered_at, v.at)
           FROM unnest($1::bigint[], $2::smallint[], $3::timestamptz[]) AS v(id, flags, at)
           WHERE c.campaign_id = $4 AND c.id = v.id`,
          [batch, flags, times, campaignId],
        );
      }
    }),
  );
  const perSecond = (clients * batchesPerClient * 500) / ((performance.now() - started) / 1000);
  const use = cpu.read(clients * batchesPerClient * 500);
  await pool.end();
  return { perSecond, postgresPerRow: use.postgres, machineBusy: use.machineBusy };
}

/** The ceiling: 500-row batched INSERTs, one transaction each, from as many clients. */
async function insertCeiling(url: string, batchesPerClient: number) {
  const pool = new Pool({ connectionString: url, max: SENDERS });
  await pool.query(
    `CREATE TABLE bench_rows (id bigint GENERATED ALWAYS AS IDENTITY, message_id text, status text, at timestamptz)`,
  );
  const ids = Array.from({ length: 500 }, (_, i) => `wamid.bench.${i}`);
  const statuses = ids.map((_, i) => STATUSES[i % 4]!);
  const times = ids.map((_, i) => new Date((BASE + i) * 1000));
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      for (let i = 0; i < batchesPerClient; i++) {
        await pool.query(
          `INSERT INTO bench_rows (message_id, status, at) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])`,
          [ids, statuses, times],
        );
      }
    }),
  );
  const perSecond = (SENDERS * batchesPerClient * 500) / ((performance.now() - started) / 1000);
  await pool.end();
  return perSecond;
}

export async function runIngestBenchmark(): Promise<void> {
  const database = await benchDatabase();
  const gateway = await startGateway(database.url, { WHATSAPP_APP_SECRET: SECRET, LOG_LEVEL: 'info' });
  try {
    const auth = { authorization: `Bearer ${gateway.key}`, 'content-type': 'application/json' };
    const contacts = Array.from({ length: CONTACTS }, (_, i) => `+1650${String(i).padStart(7, '0')}`);
    const created = await httpRequest(
      `${gateway.url}/graphql`,
      'POST',
      auth,
      JSON.stringify({
        query: 'mutation($c: [String!]!) { createCampaign(input: { name: "bench", contacts: $c }) { id } }',
        variables: { c: contacts },
      }),
    );
    const campaignId = (JSON.parse(created.body) as { data: { createCampaign: { id: string } } }).data.createCampaign
      .id;
    for (let i = 0; i < CONTACTS; i += 5000) {
      const events = contacts.slice(i, i + 5000).map((contact, j) => ({
        type: 'message.sent',
        campaign_id: campaignId,
        contact,
        message_id: `wamid.bench.${i + j}`,
      }));
      const r = await httpRequest(`${gateway.url}/api/v1/events`, 'POST', auth, JSON.stringify({ events }));
      if (r.status !== 200) throw new Error(`registration failed: ${r.body}`);
    }

    const binder = new Client({ connectionString: database.url });
    await binder.connect();
    await binder.query(
      `INSERT INTO whatsapp_numbers (phone_number_id, workspace_id) SELECT $1, workspace_id FROM campaigns WHERE id = $2`,
      [PHONE_NUMBER_ID, campaignId],
    );
    await binder.end();
    process.stderr.write('ingest: registered contacts, warming up\n');
    await closedLoop(gateway.url, 100, 5, 1); // warm-up
    const batchedCpu = cpuMeter(gateway.child.pid);
    const batched = await closedLoop(gateway.url, 100, 80, 2);
    const batchedUse = batchedCpu.read(SENDERS * 80 * 100);
    // Both receivers of 1-status requests get the same warm-up and the same requests: measured
    // cold, the gateway's 1-status path ran at about two thirds of its warm rate (JIT), the bare one
    // always had a warm-up.
    await closedLoop(gateway.url, 1, 20, 4, SINGLE_SENDERS);
    const singleCpu = cpuMeter(gateway.child.pid);
    const single = await closedLoop(gateway.url, 1, SINGLE_REQUESTS, 3, SINGLE_SENDERS);
    const singleUse = singleCpu.read(SINGLE_SENDERS * SINGLE_REQUESTS);
    const steady = await paced(gateway.url, 1000, 5);
    const bare = await startBareReceiver();
    let bareSingle: Awaited<ReturnType<typeof closedLoop>>;
    let bareUse: CpuUse;
    try {
      await closedLoop(bare.url, 1, 20, 4, SINGLE_SENDERS); // warm-up
      const bareCpu = cpuMeter(bare.pid);
      bareSingle = await closedLoop(bare.url, 1, SINGLE_REQUESTS, 3, SINGLE_SENDERS);
      bareUse = bareCpu.read(SINGLE_SENDERS * SINGLE_REQUESTS);
    } finally {
      bare.stop();
    }

    const admin = new Client({ connectionString: database.url });
    await admin.connect();
    const [stored] = (
      await admin.query(`SELECT ${CHECKED.join(', ')} FROM campaign_counters WHERE campaign_id = $1`, [campaignId])
    ).rows;
    const [recounted] = (
      await admin.query(
        `SELECT ${CHECKED.map((name) => `count(*) FILTER (WHERE ${countsInSql(name)})::int AS ${name}`).join(', ')}
       FROM campaign_contacts WHERE campaign_id = $1`,
        [campaignId],
      )
    ).rows;
    await admin.end();
    if (JSON.stringify(stored) !== JSON.stringify(recounted))
      throw new Error(`counters drifted: ${JSON.stringify({ stored, recounted })}`);

    process.stderr.write('ingest: gateway figures done, measuring baselines\n');
    const naive = await naiveBaseline(database.url, 400);
    const ceiling = await insertCeiling(database.url, 40);
    const sameShape = await sameShapeCeiling(database.url, campaignId, SENDERS, 40);
    const figures: Figure[] = [
      against(
        {
          name: 'webhook, 100 statuses/request, 8 senders',
          value: batched.perSecond,
          unit: 'statuses/s',
          baseline: 'naive 1-row UPDATE per tx',
          baselineValue: naive,
          target: '>= 10x naive',
        },
        { atLeast: 10 },
      ),
      against(
        {
          name: 'webhook, 100/request vs same-shape ceiling',
          value: batched.perSecond,
          unit: 'statuses/s',
          baseline: `UPDATE … FROM unnest of 500 existing contact rows, ${SENDERS} clients`,
          baselineValue: sameShape.perSecond,
          target: '>= 0.5x same-shape ceiling',
        },
        { atLeast: 0.5 },
      ),
      { name: 'same-shape ceiling: PostgreSQL CPU per row', value: sameShape.postgresPerRow, unit: 'µs' },
      { name: 'same-shape ceiling: machine busy', value: sameShape.machineBusy * 100, unit: '%' },
      against({
        name: 'webhook, 100/request vs INSERT ceiling (the wrong yardstick, kept for comparison)',
        value: batched.perSecond,
        unit: 'statuses/s',
        baseline: '500-row batched INSERT',
        baselineValue: ceiling,
      }),
      { name: 'webhook, 100/request: gateway CPU per status', value: batchedUse.receiver, unit: 'µs' },
      { name: 'webhook, 100/request: PostgreSQL CPU per status', value: batchedUse.postgres, unit: 'µs' },
      { name: 'webhook, 100/request: machine busy', value: batchedUse.machineBusy * 100, unit: '%' },
      { name: 'webhook, 100/request ack p50', value: batched.p50, unit: 'ms' },
      { name: 'webhook, 100/request ack p99', value: batched.p99, unit: 'ms' },
      against(
        {
          name: `webhook, 1 status/request, ${SINGLE_SENDERS} senders`,
          value: single.perSecond,
          unit: 'statuses/s',
          baseline: 'naive 1-row UPDATE per tx',
          baselineValue: naive,
          target: '>= 3x naive',
        },
        { atLeast: 3 },
      ),
      against(
        {
          name: `webhook, 1 status/request, ${SINGLE_SENDERS} senders vs bare receiver`,
          value: single.perSecond,
          unit: 'statuses/s',
          baseline: 'bare node:http: HMAC check + JSON parse, same client',
          baselineValue: bareSingle.perSecond,
          target: '>= 0.7x bare receiver',
        },
        { atLeast: 0.7 },
      ),
      { name: 'webhook, 1/request: gateway CPU per request', value: singleUse.receiver, unit: 'µs' },
      { name: 'webhook, 1/request: PostgreSQL CPU per request', value: singleUse.postgres, unit: 'µs' },
      { name: 'webhook, 1/request: load generator CPU per request', value: singleUse.client, unit: 'µs' },
      { name: 'webhook, 1/request: machine busy', value: singleUse.machineBusy * 100, unit: '%' },
      { name: 'bare receiver: its CPU per request', value: bareUse.receiver, unit: 'µs' },
      { name: 'bare receiver: load generator CPU per request', value: bareUse.client, unit: 'µs' },
      { name: 'bare receiver: machine busy', value: bareUse.machineBusy * 100, unit: '%' },
      { name: 'webhook, 1/request ack p50', value: single.p50, unit: 'ms' },
      { name: 'webhook, 1/request ack p99', value: single.p99, unit: 'ms' },
      {
        name: `paced 1,000 statuses/s (achieved ${Math.round(steady.achieved)}/s) ack p50`,
        value: steady.p50,
        unit: 'ms',
      },
      {
        name: 'paced 1,000 statuses/s ack p99',
        value: steady.p99,
        unit: 'ms',
        target: '<= 250 ms',
        met: steady.p99 <= 250,
      },
    ];
    report('ingest', figures, {
      machine: `${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'}`,
      counters: stored,
    });
  } finally {
    await gateway.stop();
    await database.close();
  }
}
