import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { phones } from '../factories/campaign.factory';
import { postEvents, restStats } from '../support/http';
import { Recorder, STATS_SUBSCRIPTION, sleep } from '../support/live';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

const DRAIN_DELAY_MS = 600;

const readiness = async (url: string) => {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, json: await response.json() };
};

// Two instances on one database; the client picks its instance as a load balancer would: the
// first whose /readyz answers 200. Stopping the first must move the subscriber to the second
// without losing its subscription.
describe('stop drains: /readyz 503 first, requests still served, then sockets closed with 1012', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ drainDelayMs: DRAIN_DELAY_MS });
    b = await startTestApp({}, a);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop(); // a second stop waits for the first one (and then drops the database)
  });

  it('moves a graphql-ws subscriber to another instance, which sends a snapshot and then the changes', async () => {
    const contacts = phones(3);
    const { id } = await a.app.services.campaigns.create(a.workspaceId, { name: 'drain', contacts });
    const instances: string[] = [];
    const closes: number[] = [];
    const client = createClient({
      url: async () => {
        const url = (await readiness(a.url)
          .then((r) => r.status === 200)
          .catch(() => false))
          ? a.url
          : b.url;
        instances.push(url);
        return `${url.replace('http', 'ws')}/graphql`;
      },
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${a.key}` },
      retryAttempts: 5,
      retryWait: async () => {
        await sleep(20);
      },
      on: { closed: (event) => closes.push((event as { code: number }).code) },
    });
    const recorder = new Recorder(client, STATS_SUBSCRIPTION, { id });
    try {
      await recorder.until((r) => r.values.length === 1);
      expect(instances).toEqual([a.url]);

      const stopping = a.app.stop();
      const started = Date.now();
      expect(a.app.draining).toBe(true);
      // Not ready at once, whatever the database says; everything else is still served meanwhile.
      expect(await readiness(a.url)).toEqual({ status: 503, json: { status: 'draining', database: 'up' } });
      const stats = await restStats(a.url, a.key, id);
      expect(stats.status).toBe(200);
      expect(await postEvents(a.url, a.key, { type: 'message.sent', campaign_id: id, contact: contacts[0] })).toEqual({
        status: 200,
        json: { status: 'success', accepted: 1 },
      });
      expect(closes).toEqual([]);

      // Then the socket closes with 1012; the client reconnects (to b) and subscribes again.
      while (closes.length === 0 && Date.now() - started < 10_000) await sleep(10);
      expect(Date.now() - started).toBeGreaterThanOrEqual(DRAIN_DELAY_MS - 50);
      expect(closes).toEqual([1012]);
      const before = recorder.values.length;
      await recorder.until((r) => r.values.length > before, 10_000);
      expect(recorder.last().campaignStatsUpdated).toMatchObject({ sentCount: 1, totalContacts: 3 });
      expect(instances).toEqual([a.url, b.url]);
      expect(recorder.completed).toBe(false);
      expect(recorder.errors).toEqual([]);

      await postEvents(b.url, b.key, { type: 'message.delivered', campaign_id: id, contact: contacts[1] });
      await recorder.until((r) => r.last().campaignStatsUpdated.deliveredCount === 1);

      await stopping;
      await expect(fetch(`${a.url}/healthz`)).rejects.toThrow();
    } finally {
      recorder.stop();
      await client.dispose();
    }
  });

  it('a second stop while stopping waits for the same drain', async () => {
    const c = await startTestApp({ drainDelayMs: 100 }, b);
    const first = c.app.stop();
    const second = c.app.stop();
    expect(second).toBe(first);
    await first;
    await c.db.destroy();
  });
});
