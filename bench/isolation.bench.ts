// npm run bench -- isolation: one workspace floods GraphQL operations over many WebSockets; another
// workspace's REST latency is measured idle and under the flood, in the same run.
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import type { Figure } from './support';
import { ROOT, against, benchDatabase, percentile, report, startGateway } from './support';

const SOCKETS = 150; // past WS_MAX_SOCKETS_PER_KEY (100): the rest are refused 4429
const FLOOD_MS = 8_000;
const VICTIM_READS = 150;
/** The victim stays within its own budget (RATE_LIMIT_RPS 50): one read every 25 ms at most. */
const VICTIM_PACE_MS = 25;

function keyOf(databaseUrl: string, workspace: string): string {
  return execFileSync('node', ['dist/src/cli.js', 'api-key', 'create', '--workspace', workspace], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  }).trim();
}

async function campaignOf(url: string, key: string): Promise<string> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({
      query: 'mutation { createCampaign(input: { name: "victim", contacts: ["+14155550100"] }) { id } }',
    }),
  });
  return ((await response.json()) as { data: { createCampaign: { id: string } } }).data.createCampaign.id;
}

/** Sequential REST reads, paced within the key's budget: their latencies in ms, sorted. */
async function reads(url: string, key: string, id: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < VICTIM_READS; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/api/v1/campaigns/${id}/stats`, {
      headers: { authorization: `Bearer ${key}` },
    });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`victim read answered ${response.status}`);
    const took = performance.now() - started;
    times.push(took);
    if (took < VICTIM_PACE_MS) await new Promise((resolve) => setTimeout(resolve, VICTIM_PACE_MS - took));
  }
  return times.sort((a, b) => a - b);
}

/** One flooding socket: operations back to back until `until`; counts what came back. */
async function flood(url: string, key: string, until: number, tally: Record<string, number>): Promise<void> {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  let next = 0;
  await new Promise<void>((resolve) => {
    socket.on('close', (code) => {
      tally[`closed ${code}`] = (tally[`closed ${code}`] ?? 0) + 1;
      resolve();
    });
    socket.on('error', () => {});
    socket.on('open', () =>
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } })),
    );
    const send = () => {
      if (Date.now() >= until) return socket.close();
      socket.send(
        JSON.stringify({
          type: 'subscribe',
          id: String(next++),
          payload: { query: '{ campaigns(first: 20) { edges { cursor } } }' },
        }),
      );
    };
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type: string; payload?: { extensions?: { code?: string } }[] };
      if (message.type === 'connection_ack') return send();
      if (message.type === 'error') {
        const code = message.payload?.[0]?.extensions?.code ?? 'error';
        tally[code] = (tally[code] ?? 0) + 1;
        send();
      } else if (message.type === 'complete') {
        tally.ok = (tally.ok ?? 0) + 1;
        send();
      }
    });
  });
}

export async function runIsolationBenchmark(): Promise<void> {
  const database = await benchDatabase();
  const gateway = await startGateway(database.url, {
    RATE_LIMIT_RPS: '50',
    RATE_LIMIT_BURST: '100',
    WS_MAX_SOCKETS_PER_KEY: '100', // the default, as a tenant meets it
  });
  try {
    const victimKey = keyOf(database.url, 'victim');
    const victimCampaign = await campaignOf(gateway.url, victimKey);
    await reads(gateway.url, victimKey, victimCampaign); // warm-up
    const idle = await reads(gateway.url, victimKey, victimCampaign);
    const tally: Record<string, number> = {};
    const until = Date.now() + FLOOD_MS;
    const flooding = Promise.all(Array.from({ length: SOCKETS }, () => flood(gateway.url, gateway.key, until, tally)));
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the flood is under way
    const loaded = await reads(gateway.url, victimKey, victimCampaign);
    await flooding;
    const idleP50 = percentile(idle, 50);
    const loadedP50 = percentile(loaded, 50);
    const figures: Figure[] = [
      {
        name: 'other workspace REST p50, idle',
        value: idleP50,
        unit: `ms (p99 ${percentile(idle, 99).toFixed(1)} ms)`,
      },
      against(
        {
          name: `other workspace REST p50, ${SOCKETS} sockets of one key flooding`,
          value: loadedP50,
          unit: `ms (p99 ${percentile(loaded, 99).toFixed(1)} ms)`,
          baseline: 'idle',
          baselineValue: idleP50,
          target: 'within 3x of idle',
        },
        { atMost: 3 },
      ),
      {
        name: 'flooding operations answered',
        value: tally.ok ?? 0,
        unit: `ok; ${tally.RATE_LIMITED ?? 0} RATE_LIMITED; sockets: ${JSON.stringify(Object.fromEntries(Object.entries(tally).filter(([k]) => k.startsWith('closed'))))}`,
      },
    ];
    report('isolation', figures, { sockets: SOCKETS, floodMs: FLOOD_MS, victimReads: VICTIM_READS, tally });
  } finally {
    await gateway.stop();
    await database.close();
  }
}
