import WebSocket from 'ws';
import { phones } from '../factories/campaign.factory';
import { postEvents } from '../support/http';
import type { Recorder as RecorderType } from '../support/live';
import { Recorder, STATS_SUBSCRIPTION, liveClient, rawInit, sleep } from '../support/live';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

const INTERVAL = 50; // the test apps' STATS_PUSH_INTERVAL_MS

describe('live stats over graphql-ws', () => {
  let t: TestApp;
  const opened: { client: { dispose(): Promise<void> | void } }[] = [];
  const recorders: RecorderType[] = [];
  beforeAll(async () => {
    t = await startTestApp({
      live: { revalidateEveryMs: 300, maxSubscriptionsPerSocket: 3, connectionInitWaitTimeout: 300 },
    });
  });
  afterEach(async () => {
    for (const r of recorders.splice(0)) r.stop();
    for (const c of opened.splice(0)) await c.client.dispose();
  });
  afterAll(() => t.stop());

  function subscribe(url: string, key: string, campaignId: string) {
    const live = liveClient(url, key);
    opened.push(live);
    const recorder = new Recorder(live.client, STATS_SUBSCRIPTION, { id: campaignId });
    recorders.push(recorder);
    return { recorder, live };
  }
  const campaign = async (contacts: string[]) =>
    (await t.app.services.campaigns.create(t.workspaceId, { name: 'live', contacts })).id;
  const sent = (campaignId: string, contact: string) =>
    postEvents(t.url, t.key, { type: 'message.sent', campaign_id: campaignId, contact });

  it('sends the current stats at once, then the new numbers after an event', async () => {
    const contacts = phones(3);
    const id = await campaign(contacts);
    await sent(id, contacts[0]!);
    const { recorder } = subscribe(t.url, t.key, id);
    await recorder.until((r) => r.values.length >= 1);
    expect(recorder.values[0]!.campaignStatsUpdated).toMatchObject({
      campaignId: id,
      // the first event started the draft campaign (DESIGN section 2)
      campaignStatus: 'RUNNING',
      totalContacts: 3,
      sentCount: 1,
      pendingCount: 2,
    });
    await postEvents(t.url, t.key, {
      type: 'message.failed',
      campaign_id: id,
      contact: contacts[1],
      error: { code: 131026, title: 'Message undeliverable' },
    });
    await recorder.until((r) => r.last().campaignStatsUpdated.failedCount === 1);
    expect(recorder.last().campaignStatsUpdated.failureReasons).toEqual([{ code: 131026, count: 1 }]);
  });

  it('coalesces a burst: fewer pushes than events, ending on the final state; nothing when nothing changed', async () => {
    const contacts = phones(40);
    const id = await campaign(contacts);
    const { recorder } = subscribe(t.url, t.key, id);
    await recorder.until((r) => r.values.length === 1);
    for (const contact of contacts) await sent(id, contact);
    await recorder.until((r) => r.last().campaignStatsUpdated.sentCount === 40);
    const pushes = recorder.values.length - 1;
    expect(pushes).toBeLessThan(40);
    expect(pushes).toBeGreaterThanOrEqual(1);
    // A repeat changes no number: nothing is sent.
    for (const contact of contacts.slice(0, 5)) await sent(id, contact);
    await sleep(INTERVAL * 6);
    expect(recorder.values.length).toBe(pushes + 1);
    // A status move is a change.
    await t.app.services.campaigns.move(t.workspaceId, id, 'completed');
    await recorder.until((r) => r.last().campaignStatsUpdated.campaignStatus === 'COMPLETED');
  });

  it('multiplexes: many subscribers of one campaign cost one read per change', async () => {
    const contacts = phones(2);
    const id = await campaign(contacts);
    const subscribers = Array.from({ length: 20 }, () => subscribe(t.url, t.key, id).recorder);
    await Promise.all(subscribers.map((r) => r.until((x) => x.values.length === 1)));
    const reads = t.app.services.hub.totals.reads;
    await sent(id, contacts[0]!);
    await Promise.all(subscribers.map((r) => r.until((x) => x.last().campaignStatsUpdated.sentCount === 1)));
    expect(t.app.services.hub.totals.reads - reads).toBe(1);
  });

  it('reaches a subscriber on another instance sharing the database', async () => {
    const b = await startTestApp({}, t);
    try {
      const contacts = phones(2);
      const id = await campaign(contacts);
      const { recorder } = subscribe(b.url, t.key, id);
      await recorder.until((r) => r.values.length === 1);
      await sent(id, contacts[0]!); // through instance A
      await recorder.until((r) => r.last().campaignStatsUpdated.sentCount === 1);
    } finally {
      for (const r of recorders.splice(0)) r.stop();
      for (const c of opened.splice(0)) await c.client.dispose();
      await b.stop();
    }
  });

  it('a change made while the LISTEN connection was down still reaches the subscriber', async () => {
    const contacts = phones(2);
    const id = await campaign(contacts);
    const { recorder } = subscribe(t.url, t.key, id);
    await recorder.until((r) => r.values.length === 1);
    const reconnects = t.app.services.listener.reconnects;
    const [killed] = await t.db.query(
      `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
       WHERE application_name = 'campaign-stats-gateway-listener' AND datname = current_database()`,
    );
    expect(killed.n).toBe(1);
    await sent(id, contacts[0]!); // committed while the listener is down or reconnecting
    await recorder.until((r) => r.last().campaignStatsUpdated.sentCount === 1, 10_000);
    await recorder.until(() => t.app.services.listener.reconnects > reconnects, 10_000);
  });

  describe('auth and tenancy', () => {
    it.each([
      ['no key', {}],
      ['a wrong key', { authorization: 'Bearer wapl_0000000000000000000000000000000000000000' }],
      ['a malformed header', { authorization: 'wapl_abc' }],
      ['no payload at all', undefined],
    ])('closes with 4403 for %s, before any subscription runs', async (_, payload) => {
      const closed = await rawInit(t.url, payload);
      expect(closed.code).toBe(4403);
      expect(closed.messages).toEqual([]);
    });

    it('closes a socket whose connection_init never comes (4408)', async () => {
      const closed = await new Promise<{ code: number }>((resolve) => {
        const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        socket.on('close', (code) => resolve({ code }));
      });
      expect(closed.code).toBe(4408);
    });

    it("answers NOT_FOUND for another workspace's campaign and BAD_USER_INPUT for a bad id, with no data", async () => {
      const other = await t.newKey('live-other');
      const id = await campaign(phones(1));
      const theirs = subscribe(t.url, other.key, id).recorder;
      await theirs.until((r) => r.errors.length > 0);
      expect(theirs.values).toEqual([]);
      expect(theirs.errors).toEqual([
        expect.objectContaining({ message: 'Campaign not found', extensions: { code: 'NOT_FOUND' } }),
      ]);
      const bad = subscribe(t.url, t.key, 'nope').recorder;
      await bad.until((r) => r.errors.length > 0);
      expect(bad.errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
    });

    it('caps subscriptions per socket', async () => {
      const id = await campaign(phones(1));
      const live = liveClient(t.url, t.key);
      opened.push(live);
      const subs = Array.from({ length: 4 }, () => {
        const r = new Recorder(live.client, STATS_SUBSCRIPTION, { id });
        recorders.push(r);
        return r;
      });
      await Promise.all(subs.slice(0, 3).map((r) => r.until((x) => x.values.length === 1)));
      await subs[3]!.until((r) => r.errors.length > 0);
      expect(subs[3]!.errors).toEqual([expect.objectContaining({ extensions: { code: 'RATE_LIMITED' } })]);
    });

    it('closes sockets whose key was revoked with 4403', async () => {
      const { key } = await t.newKey('live-revoked');
      const own = await t.app.services.campaigns.create((await t.app.services.keys.authenticate(key))!.workspaceId, {
        name: 'r',
        contacts: phones(1),
      });
      const { recorder, live } = subscribe(t.url, key, own.id);
      await recorder.until((r) => r.values.length === 1);
      await t.app.services.keys.revoke(key.slice(0, 13));
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        live.closed,
        new Promise((resolve) => (timer = setTimeout(() => resolve(null), 3000))),
      ]);
      clearTimeout(timer);
      expect(closed).toMatchObject({ code: 4403 });
    });
  });

  it('closes sockets that hold no subscription for the idle timeout, and keeps busy ones', async () => {
    const idle = await startTestApp({ live: { idleTimeoutMs: 400, revalidateEveryMs: 100 } });
    try {
      const id = (await idle.app.services.campaigns.create(idle.workspaceId, { name: 'i', contacts: phones(1) })).id;
      const busy = liveClient(idle.url, idle.key);
      const recorder = new Recorder(busy.client, STATS_SUBSCRIPTION, { id });
      await recorder.until((r) => r.values.length === 1);
      const lazy = await new Promise<{ code: number; reason: string }>((resolve) => {
        const socket = new WebSocket(`${idle.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
        socket.on('open', () =>
          socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${idle.key}` } })),
        );
        socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      });
      expect(lazy).toEqual({ code: 1000, reason: 'Idle' });
      expect(recorder.completed).toBe(false);
      recorder.stop();
      await busy.client.dispose();
    } finally {
      await idle.stop();
    }
  });

  it('on stop, sockets close with 1012 (Service Restart) and no complete, so clients reconnect and resubscribe', async () => {
    const other = await startTestApp();
    const id = (await other.app.services.campaigns.create(other.workspaceId, { name: 's', contacts: phones(1) })).id;
    const live = liveClient(other.url, other.key);
    const recorder = new Recorder(live.client, STATS_SUBSCRIPTION, { id });
    await recorder.until((r) => r.values.length === 1);
    await other.stop();
    expect(await live.closed).toMatchObject({ code: 1012 });
    expect(recorder.completed).toBe(false);
    expect(other.app.services.hub.subscriberCount).toBe(0);
    await live.client.dispose();
  });
});
