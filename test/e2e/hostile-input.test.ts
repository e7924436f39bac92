import type { Socket } from 'node:net';
import { connect } from 'node:net';
import WebSocket from 'ws';
import { phones } from '../factories/campaign.factory';
import { gql, postEvents, restStats } from '../support/http';
import { liveClient } from '../support/live';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';
import { postWebhook, webhookBody } from '../support/whatsapp';
import { createLogger } from '../../src/logger';

/** Hostile input and slow clients (docs/errors.md): never a 5xx, nothing stored, no error-level log. */
describe('hostile input', () => {
  let t: TestApp;
  let campaignId: string;
  let contacts: string[];
  const lines: string[] = [];
  const levels = () => lines.map((l) => (JSON.parse(l) as { level: string; msg: string }).level);

  beforeAll(async () => {
    t = await startTestApp(
      { timeouts: { headersMs: 500, requestMs: 1000, keepAliveMs: 5000 } },
      undefined,
      createLogger('debug', (line) => lines.push(line)),
    );
    contacts = phones(3);
    campaignId = (await t.app.services.campaigns.create(t.workspaceId, { name: 'hostile', contacts })).id;
  });
  afterAll(() => t.stop());
  afterEach(() => {
    // Every case here is the client's mistake: nothing may be logged as the server's fault.
    expect(lines.filter((l) => /"level":"error"/.test(l))).toEqual([]);
  });

  const event = (extra: Record<string, unknown>) => ({
    type: 'message.failed',
    campaign_id: campaignId,
    contact: contacts[0],
    ...extra,
  });

  it.each([
    ['id', { id: 'evt_\u0000' }, 'id must not contain U+0000 or a lone surrogate'],
    ['message_id', { type: 'message.sent', message_id: 'wamid.\u0000' }, 'message_id must not contain'],
    ['a lone surrogate in message_id', { type: 'message.sent', message_id: 'wamid.\ud800' }, 'message_id must not'],
    ['contact', { contact: '+1415555\u00000123' }, 'contact must be an E.164 number'],
    ['error.title', { error: { code: 131026, title: 'bad\u0000' } }, 'error.title must not contain'],
    ['error.code 2^40', { error: { code: 2 ** 40, title: 'x' } }, 'error.code must be an integer from'],
    ['error.code 2^53-1', { error: { code: Number.MAX_SAFE_INTEGER, title: 'x' } }, 'error.code must be an integer'],
  ])('events: %s is a 400 naming the field, and nothing is recorded', async (_, extra, reason) => {
    const r = await postEvents(t.url, t.key, { events: [event({}), event(extra)] });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe('bad_request');
    expect(r.json.details).toEqual([{ index: 1, reason: expect.stringContaining(reason) }]);
    expect((await restStats(t.url, t.key, campaignId)).json.failed_count).toBe(0);
  });

  it('GraphQL over HTTP and WebSocket: U+0000 or a lone surrogate in any text input is BAD_USER_INPUT', async () => {
    const create = 'mutation($name: String!) { createCampaign(input: { name: $name, contacts: [] }) { id } }';
    for (const name of ['a\u0000b', 'a\ud800b']) {
      const r = await gql(t.url, t.key, create, { name });
      expect([r.status, r.body.errors?.[0]?.extensions?.code]).toEqual([400, 'BAD_USER_INPUT']);
    }
    const literal = await gql(
      t.url,
      t.key,
      `mutation { failCampaign(id: "${campaignId}", reason: "x\\u0000") { id } }`,
    );
    expect([literal.status, literal.body.errors?.[0]?.extensions?.code]).toEqual([400, 'BAD_USER_INPUT']);
    const { client } = liveClient(t.url, t.key);
    const overSocket = await new Promise<any>((resolve) =>
      client.subscribe(
        { query: create, variables: { name: 'z\u0000' } },
        { next: resolve, error: resolve, complete: () => resolve('complete') },
      ),
    );
    expect((Array.isArray(overSocket) ? overSocket : overSocket.errors)[0].extensions.code).toBe('BAD_USER_INPUT');
    await client.dispose();
    const list = await gql(t.url, t.key, '{ campaigns(first: 50) { edges { node { name status } } } }');
    expect(list.body.data.campaigns.edges.map((e: any) => e.node)).toEqual([{ name: 'hostile', status: 'DRAFT' }]);
  });

  it('a signed webhook with an unusable item skips and counts it, applies the rest, and answers 200', async () => {
    const sent = await postEvents(t.url, t.key, {
      events: contacts.map((contact, i) => ({
        type: 'message.sent',
        campaign_id: campaignId,
        contact,
        message_id: `wamid.hostile.${i}`,
      })),
    });
    expect(sent.status).toBe(200);
    const body = webhookBody([
      { id: 'wamid.hostile.0', status: 'delivered', timestamp: 1781517960 },
      { id: 'wamid.\u0000', status: 'delivered', timestamp: 1781517960 },
      { id: 'wamid.hostile.1', status: 'failed', timestamp: 1781517960, error: { code: 2 ** 40, title: 'x' } },
      { id: 'wamid.hostile.2', status: 'failed', timestamp: 1781517960, error: { code: 131026, title: 'bad\ud800' } },
    ]);
    const r = await postWebhook(t.url, body);
    expect([r.status, r.json]).toEqual([200, { status: 'success', facts: 1, ignored: 3 }]);
    const stats = (await restStats(t.url, t.key, campaignId)).json;
    expect([stats.delivered_count, stats.failed_count]).toEqual([1, 0]);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/csg_webhook_items_ignored_total\{reason="invalid_value"\} 3/);
  });

  it('GraphQL client mistakes over HTTP are 4xx with their codes', async () => {
    const unknownHash = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.key}` },
      body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }),
    });
    const pq = (await unknownHash.json()) as any;
    expect([unknownHash.status, pq.errors[0].extensions.code]).toEqual([
      400,
      'PERSISTED_QUERY_NOT_SUPPORTED', // off: a shared cache would tell one tenant what another sent
    ]);
    expect(unknownHash.status).toBeLessThan(500);
    const subscription = await gql(
      t.url,
      t.key,
      `subscription { campaignStatsUpdated(campaignId: "${campaignId}") { sentCount } }`,
    );
    expect(subscription.status).toBe(400);
    expect(subscription.body.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
  });

  it('slow clients are cut off: unfinished headers, and a body that never ends (408)', async () => {
    const raw = (text: string) =>
      new Promise<{ data: string; ms: number }>((resolve) => {
        const started = Date.now();
        const socket = connect(Number(new URL(t.url).port), '127.0.0.1', () => socket.write(text));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve({ data, ms: Date.now() - started }));
        socket.on('error', () => {});
      });
    const headers = await raw('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    expect(headers.ms).toBeLessThan(5000);
    const body = await raw(
      `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"type":`,
    );
    expect(body.ms).toBeLessThan(5000);
    expect(body.data).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a client that disconnects mid-body is a debug line, never a database error', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(t.url).port), '127.0.0.1', () => {
        socket.write(
          `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${t.key}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"type":`,
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lines.filter((l) => l.includes('database'))).toEqual([]);
    expect(levels().filter((l) => l === 'warn' || l === 'error')).toEqual([]);
  });

  it('connections are capped (MAX_CONNECTIONS): one past the cap is dropped, a freed place is taken again', async () => {
    const capped = await startTestApp({ maxConnections: 5 });
    const port = Number(new URL(capped.url).port);
    const open = () =>
      new Promise<Socket>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => resolve(socket));
        socket.on('error', () => {});
      });
    /** Whether the server answers a request on this socket (or drops it). */
    const answers = (socket: Socket) =>
      new Promise<boolean>((resolve) => {
        socket.once('data', () => resolve(true));
        socket.once('close', () => resolve(false));
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      });
    try {
      const held = await Promise.all(Array.from({ length: 5 }, open));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await answers(await open())).toBe(false);
      held[0]!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await answers(await open())).toBe(true);
      for (const socket of held) socket.destroy();
    } finally {
      await capped.stop();
    }
  });

  it('deeply nested input is bad input, never a stack overflow (HTTP and WebSocket)', async () => {
    const deep = `${'['.repeat(20_000)}"x"${']'.repeat(20_000)}`; // past what JSON.stringify itself can write
    const body = `{"query":"{ __typename }","variables":{"a":${deep}}}`;
    const http = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.key}` },
      body,
    });
    const answer = (await http.json()) as any;
    expect([http.status, answer.errors[0].extensions.code]).toEqual([400, 'BAD_USER_INPUT']);
    // Over the socket, as a raw message (a client library could not even write it).
    const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: any[] = [];
    await new Promise<void>((resolve) => socket.once('open', () => resolve()));
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.key}` } }));
    while (!messages.some((m) => m.type === 'connection_ack')) await new Promise((r) => setTimeout(r, 10));
    const nested = `${'['.repeat(5_000)}"x"${']'.repeat(5_000)}`;
    socket.send(`{"type":"subscribe","id":"1","payload":{"query":"{ __typename }","variables":{"a":${nested}}}}`);
    const deadline = Date.now() + 5000;
    while (!messages.some((m) => m.type === 'error') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const error = messages.find((m) => m.type === 'error');
    expect(error?.payload?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(socket.readyState).toBe(WebSocket.OPEN);
    socket.close();
  });

  it('odd request targets answer the table: an undecodable URL, the asterisk form, absolute form, HEAD /graphql', async () => {
    const raw = (line: string) =>
      new Promise<string>((resolve) => {
        const socket = connect(Number(new URL(t.url).port), '127.0.0.1', () =>
          socket.write(`${line}\r\nHost: x\r\nConnection: close\r\n\r\n`),
        );
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', () => {});
      });
    const badUrl = await fetch(`${t.url}/api/v1/campaigns/%ZZ/stats`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect([badUrl.status, await badUrl.json()]).toEqual([400, { error: 'bad_request', message: 'Invalid URL' }]);
    expect(await raw('GET * HTTP/1.1')).toMatch(/^HTTP\/1\.1 404[\s\S]*"error":"not_found"/);
    expect(await raw('PUT http://x/metrics HTTP/1.1')).toMatch(/^HTTP\/1\.1 405[\s\S]*allow: GET/i);
    const head = await fetch(`${t.url}/graphql?query=%7B__typename%7D`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect([head.status, head.headers.get('allow')]).toEqual([405, 'GET, POST']);
  });

  it('events: a fractional timestamp is named in details like every bad field', async () => {
    const r = await postEvents(t.url, t.key, event({ timestamp: 1.5 }));
    expect([r.status, r.json.details]).toEqual([400, [{ index: 0, reason: expect.stringContaining('timestamp') }]]);
  });
});
