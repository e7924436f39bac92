import type { Client } from 'graphql-ws';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ApiKeysService } from '../../src/auth/api-keys.service';
import { CampaignsService } from '../../src/campaigns/campaigns.service';
import { CampaignStore } from '../../src/store/campaign.store';
import { PostgresChangeFeed } from '../../src/store/change-feed';
import { openDatabase } from '../../src/store/data-source';
import { WorkspaceStore } from '../../src/store/workspace.store';
import { phones } from '../factories/campaign.factory';
import type { Gateway, HAProxy } from '../support/cluster';
import { buildGateway, startGateway, startHAProxy } from '../support/cluster';
import { createTestDatabase } from '../support/database';
import { restStats } from '../support/http';
import { STATS_SUBSCRIPTION, sleep } from '../support/live';

const CAMPAIGNS = 6;
const CONTACTS = 30;
const SUBSCRIBERS = 300;
const BATCH = 15;

interface Stats {
  sentCount: number;
  deliveredCount: number;
  readCount: number;
  totalContacts: number;
}

/** One graphql-ws client through HAProxy, retrying as graphql-ws does, and what it lived through. */
class Subscriber {
  readonly values: Stats[] = [];
  readonly errors: unknown[] = [];
  readonly closes: number[] = [];
  connects = 0;
  /** values received before the latest connection was acknowledged */
  valuesAtLastConnect = 0;
  completed = false;
  private readonly client: Client;
  private readonly dispose: () => void;

  constructor(url: string, key: string, campaignId: string) {
    this.client = createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${key}` },
      retryAttempts: 100,
      retryWait: async () => {
        await sleep(100 + Math.random() * 200);
      },
      on: {
        connected: () => {
          this.connects++;
          this.valuesAtLastConnect = this.values.length;
        },
        closed: (event) => this.closes.push((event as { code: number }).code),
      },
    });
    this.dispose = this.client.subscribe<{ campaignStatsUpdated: Stats }>(
      { query: STATS_SUBSCRIPTION, variables: { id: campaignId } },
      {
        next: (value) => {
          if (value.errors) this.errors.push(...value.errors);
          if (value.data) this.values.push(value.data.campaignStatsUpdated);
        },
        error: (error) => this.errors.push(error),
        complete: () => (this.completed = true),
      },
    );
  }

  last(): Stats | undefined {
    return this.values[this.values.length - 1];
  }

  async close(): Promise<void> {
    this.dispose();
    await this.client.dispose();
  }
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 30_000,
  explain: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what} ${explain()}`);
    await sleep(50);
  }
}

/** POSTs a batch until a 200: through HAProxy a request may meet the instance being killed. */
async function postUntilAccepted(url: string, key: string, events: unknown[], failures: number[]): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    let status: number;
    try {
      const response = await fetch(`${url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ events }),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch {
      status = 0;
    }
    if (status === 200) return;
    failures.push(status);
    await sleep(50);
  }
  throw new Error('a batch of events was never accepted');
}

/**
 * Three compiled gateway processes on one PostgreSQL behind Debian's HAProxy (deploy/haproxy.cfg):
 * 300 graphql-ws subscribers through it; one instance SIGKILLed halfway through a rollout of
 * events. Every subscriber must end at the final numbers, those of the killed instance having
 * reconnected through HAProxy and been sent a snapshot; once HAProxy marks the instance down,
 * REST reads through it see no error.
 */
async function killOneInstanceMidRollout(fanOut: Record<string, string>): Promise<void> {
  const database = await createTestDatabase();
  const gateways: Gateway[] = [];
  let haproxy: HAProxy | undefined;
  const subscribers: Subscriber[] = [];
  try {
    // Migrated, with a workspace and its campaigns, before any instance starts.
    const db = await openDatabase({ url: database.url, poolSize: 2 });
    const { key, workspaceId } = await new ApiKeysService(new WorkspaceStore(db)).create('cluster');
    const campaigns = new CampaignsService(new CampaignStore(db), new PostgresChangeFeed());
    const ids: { id: string; contacts: string[] }[] = [];
    for (let i = 0; i < CAMPAIGNS; i++) {
      const contacts = phones(CONTACTS);
      ids.push({ id: (await campaigns.create(workspaceId, { name: `cluster ${i}`, contacts })).id, contacts });
    }
    await db.destroy();

    const env = { DATABASE_URL: database.url, STATS_PUSH_INTERVAL_MS: '100', DATABASE_POOL_SIZE: '5', ...fanOut };
    gateways.push(...(await Promise.all([startGateway(env), startGateway(env), startGateway(env)])));
    haproxy = await startHAProxy([gateways[0]!.address, gateways[1]!.address, gateways[2]!.address]);
    const lb = haproxy.url;

    for (let i = 0; i < SUBSCRIBERS; i++) subscribers.push(new Subscriber(lb, key, ids[i % CAMPAIGNS]!.id));
    await until('every subscriber has its first snapshot', () => subscribers.every((s) => s.values.length >= 1));
    expect(subscribers.every((s) => s.last()!.sentCount === 0 && s.last()!.totalContacts === CONTACTS)).toBe(true);

    // The rollout: sent for everyone, then delivered for everyone, then read for half.
    const events = [
      ...ids.flatMap(({ id, contacts }) =>
        contacts.map((c) => ({ type: 'message.sent', campaign_id: id, contact: c })),
      ),
      ...ids.flatMap(({ id, contacts }) =>
        contacts.map((c) => ({ type: 'message.delivered', campaign_id: id, contact: c })),
      ),
      ...ids.flatMap(({ id, contacts }) =>
        contacts.filter((_, i) => i % 2 === 0).map((c) => ({ type: 'message.read', campaign_id: id, contact: c })),
      ),
    ];
    const batches: unknown[][] = [];
    for (let i = 0; i < events.length; i += BATCH) batches.push(events.slice(i, i + BATCH));
    const failures: number[] = [];
    const half = Math.floor(batches.length / 2);
    const send = async (from: number, to: number) => {
      let next = from;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < to) await postUntilAccepted(lb, key, batches[next++]!, failures);
        }),
      );
    };
    await send(0, half);

    const victim = gateways[1]!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');
    const rest = send(half, batches.length);

    await until('HAProxy marks the killed instance down', async () => (await haproxy!.states()).gw2 === 'DOWN');
    const reads = await Promise.all(
      Array.from({ length: 150 }, (_, i) => restStats(lb, key, ids[i % CAMPAIGNS]!.id).then((r) => r.status)),
    );
    expect(reads.filter((status) => status !== 200)).toEqual([]);
    await rest;

    const final = { sentCount: CONTACTS, deliveredCount: CONTACTS, readCount: CONTACTS / 2, totalContacts: CONTACTS };
    for (const { id } of ids) {
      expect((await restStats(lb, key, id)).json).toMatchObject({
        sent_count: final.sentCount,
        delivered_count: final.deliveredCount,
        read_count: final.readCount,
      });
    }
    const atFinal = (s: Subscriber) => {
      const last = s.last()!;
      return (
        last.sentCount === final.sentCount &&
        last.deliveredCount === final.deliveredCount &&
        last.readCount === final.readCount
      );
    };
    await until(
      'every subscriber ends at the final numbers',
      () => subscribers.every(atFinal),
      45_000,
      () => {
        const behind = subscribers.filter((s) => !atFinal(s));
        const sample = behind.slice(0, 5).map((s) => ({
          last: s.last(),
          values: s.values.length,
          valuesAtLastConnect: s.valuesAtLastConnect,
          connects: s.connects,
          closes: s.closes,
          errors: s.errors.map(String),
          completed: s.completed,
        }));
        return `(${behind.length} behind: ${JSON.stringify(sample)})`;
      },
    );

    const moved = subscribers.filter((s) => s.closes.length > 0);
    // leastconn spread them about evenly: about a third were on the killed instance.
    expect(moved.length).toBeGreaterThan(SUBSCRIBERS / 6);
    expect(moved.length).toBeLessThan(SUBSCRIBERS / 2);
    for (const s of moved) {
      expect(s.connects).toBe(s.closes.length + 1);
      // graphql-ws resubscribed after the reconnect, and the new instance sent the current stats at once.
      expect(s.values.length).toBeGreaterThan(s.valuesAtLastConnect);
    }
    for (const s of subscribers) {
      expect(s.errors).toEqual([]);
      expect(s.completed).toBe(false);
      expect(s.last()).toMatchObject(final);
    }
    // Requests that met the dying instance were retried; none was refused for its content.
    expect(failures.filter((status) => status !== 0 && status < 500)).toEqual([]);

    // The survivors stop cleanly on SIGTERM.
    await Promise.all(subscribers.splice(0).map((s) => s.close()));
    expect(await Promise.all([gateways[0]!.stop(), gateways[2]!.stop()])).toEqual([0, 0]);
  } catch (error) {
    const logs = [...gateways.map((g, i) => `gw${i + 1}: ${g.output()}`), `haproxy: ${haproxy?.output() ?? ''}`];
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs.join('\n').slice(-6000)}`, {
      cause: error,
    });
  } finally {
    await Promise.all(subscribers.map((s) => s.close()));
    await haproxy?.stop();
    await Promise.all(gateways.map((g) => g.stop()));
    await database.drop();
  }
}

describe('three instances behind HAProxy, one killed mid-rollout', () => {
  beforeAll(() => buildGateway(), 120_000);

  it('with PostgreSQL LISTEN/NOTIFY: every subscriber reconnects and ends at the final numbers', async () => {
    await killOneInstanceMidRollout({});
  }, 150_000);

  it('with Redis fan-out: the same', async () => {
    // Like PgBouncer and HAProxy, Redis must be there: this fails loudly rather than skip.
    const redisUrl = process.env.TEST_REDIS_URL;
    if (!redisUrl) throw new Error('Redis is not reachable (see the globalSetup message): start one on 127.0.0.1:6379');
    await killOneInstanceMidRollout({ REDIS_URL: redisUrl });
  }, 150_000);
});
