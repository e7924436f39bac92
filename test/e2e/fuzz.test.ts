import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import WebSocket from 'ws';
import { signWhatsAppBody } from '../../src/ingest/whatsapp.signature';
import { createCampaign, phones } from '../factories/campaign.factory';
import { postEvents, restStats } from '../support/http';
import { closeRawAgent, rawRequest } from '../support/raw-http';
import { storedAndRecounted } from '../support/recount';
import type { TestApp } from '../support/test-app';
import { TEST_APP_SECRET, startTestApp } from '../support/test-app';
import { webhookBody } from '../support/whatsapp';

/** Generated requests per endpoint; FUZZ_RUNS=100000 for a long run. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const MISSING = 'aaaaaaaaaaaaaaaaaaaaaaaa';

const anyJson = fc.jsonValue({ maxDepth: 4 });
const hex = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength, maxLength });
/** Text PostgreSQL cannot store, and numbers past their columns, as strings too (docs/errors.md). */
const unstorableText = fc.oneof(
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', 'x\udc00y', '\ud83d'),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => `${s}\u0000`),
  fc.string({ maxLength: 10 }).map((s) => `${s}\udbff`),
);
const hostileText = fc.oneof(unstorableText, fc.constantFrom('9'.repeat(400), '2147483648', '1e309'));
const hostileNumber = fc.oneof(
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 40, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, 0.5),
  fc.double({ noNaN: true }),
);
/** JSON nested deeper than any handler walks on purpose. */
const deepJson = fc.integer({ min: 50, max: 2000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('', ' ', '\u0000', '%', '%zz', '../', 'null'),
  hostileText,
);
const event = fc.record(
  {
    id: fc.oneof(text, fc.integer(), anyJson),
    type: fc.oneof(
      fc.constantFrom(
        'message.sent',
        'message.delivered',
        'message.read',
        'message.clicked',
        'message.failed',
        'message.reply',
      ),
      text,
      anyJson,
    ),
    campaign_id: fc.oneof(fc.constant(MISSING), hex(24, 24), text, anyJson),
    contact: fc.oneof(fc.constant('+14155550000'), text, anyJson),
    message_id: fc.oneof(text, anyJson),
    timestamp: fc.oneof(
      fc.date().map((d) => (Number.isNaN(d.getTime()) ? 'x' : d.toISOString())),
      fc.integer(),
      text,
      anyJson,
    ),
    error: fc.oneof(
      fc.record({ code: fc.oneof(fc.integer(), hostileNumber, text), title: fc.oneof(text, anyJson) }),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);
const eventsBody = fc.oneof(
  anyJson.map((v) => JSON.stringify(v)),
  event.map((e) => JSON.stringify(e)),
  fc.array(event, { maxLength: 5 }).map((events) => JSON.stringify({ events })),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
  deepJson,
  deepJson.map((d) => `{"events":${d}}`),
);

describe('fuzzing every endpoint: never a 5xx, the process stays up, rejected input changes nothing', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    closeRawAgent();
    await t.stop();
  });

  /**
   * What each test fuzzes around, made by that test: a campaign of five contacts, one of them
   * registered under a WhatsApp message id of its own, and its stored counters before the fuzzing.
   */
  async function fuzzTarget() {
    const contacts = phones(5);
    const { id: campaignId } = await createCampaign(t.app.services.campaigns, t.workspaceId, {
      name: 'fuzz',
      contacts,
    });
    const wamid = `wamid.fuzz.${randomBytes(8).toString('hex')}`;
    const registered = await postEvents(t.url, t.key, {
      type: 'message.sent',
      campaign_id: campaignId,
      contact: contacts[0],
      message_id: wamid,
    });
    expect(registered.status).toBe(200);
    const before = (await storedAndRecounted(t.db, campaignId)).stored;
    return { campaignId, wamid, before };
  }

  /** Answer statuses seen by one test; a 5xx fails it at once. */
  function statusTally(endpoint: string) {
    const statuses = new Map<number, number>();
    return {
      seen(status: number) {
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500) throw new Error(`${endpoint} answered ${status}`);
      },
      report() {
        expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
        if (process.env.FUZZ_REPORT)
          process.stdout.write(`fuzz statuses, ${endpoint}: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
      },
    };
  }

  /**
   * How every fuzzing ends: the target's numbers moved only where accepted input may move them
   * (`movable`), they equal a recount, and the gateway still serves.
   */
  async function expectUnharmed(target: Awaited<ReturnType<typeof fuzzTarget>>, movable: string[] = []) {
    const { stored, recounted } = await storedAndRecounted(t.db, target.campaignId);
    expect(stored).toEqual(recounted);
    const ignoring = Object.fromEntries(movable.map((field) => [field, 0]));
    expect({ ...stored, ...ignoring }).toEqual({ ...target.before, ...ignoring });
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
  }

  it(`GET /api/v1/campaigns/{id}/stats: ${RUNS} ids and headers`, async () => {
    const target = await fuzzTarget();
    const tally = statusTally('stats');
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.constant(target.campaignId), fc.constant(MISSING), hex(0, 30), text).map((s) => {
          try {
            return encodeURIComponent(s);
          } catch {
            return '%ED%A0%80'; // a lone surrogate has no UTF-8: its CESU-8 bytes, as a hostile client sends them
          }
        }),
        fc.oneof(fc.constant(`Bearer ${t.key}`), text, fc.constant('Bearer '), fc.constant(`bearer ${t.key}x`)),
        fc.oneof(
          fc.constant(undefined),
          text.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
        ),
        async (id, authorization, ifNoneMatch) => {
          const headers: Record<string, string> = {};
          if (authorization.length > 0) headers.authorization = authorization.replace(/[^\x20-\x7e]/g, '');
          if (ifNoneMatch) headers['if-none-match'] = ifNoneMatch;
          const r = await rawRequest(`${t.url}/api/v1/campaigns/${id}/stats`, 'GET', headers);
          tally.seen(r.status);
          if (r.status !== 304) expect(() => JSON.parse(r.body)).not.toThrow();
        },
      ),
      { numRuns: RUNS },
    );
    tally.report();
    await expectUnharmed(target);
  });

  it(`POST /api/v1/events: ${RUNS} bodies`, async () => {
    const target = await fuzzTarget();
    const tally = statusTally('events');
    await fc.assert(
      fc.asyncProperty(eventsBody, fc.boolean(), async (body, json) => {
        const r = await rawRequest(
          `${t.url}/api/v1/events`,
          'POST',
          { authorization: `Bearer ${t.key}`, ...(json ? { 'content-type': 'application/json' } : {}) },
          body,
        );
        tally.seen(r.status);
        expect(() => JSON.parse(r.body)).not.toThrow();
      }),
      { numRuns: RUNS },
    );
    tally.report();
    await expectUnharmed(target);
  });

  it(`POST /api/v1/events: ${RUNS} events naming a real contact with one hostile field are 400 and move nothing`, async () => {
    const target = await fuzzTarget();
    const tally = statusTally('events-hostile');
    const contact: { phone: string }[] = await t.db.query(
      `SELECT phone FROM campaign_contacts WHERE campaign_id = $1 LIMIT 1`,
      [target.campaignId],
    );
    const hostile = fc.oneof(
      unstorableText.map((v) => ({ id: v })),
      unstorableText.map((v) => ({ message_id: v })),
      unstorableText.map((v) => ({ error: { code: 131026, title: v } })),
      hostileNumber
        .filter((n) => !Number.isInteger(n) || n > 2 ** 31 - 1 || n < -(2 ** 31))
        .map((v) => ({ error: { code: v, title: 'x' } })),
    );
    await fc.assert(
      fc.asyncProperty(hostile, fc.boolean(), async (field, batch) => {
        const event = { type: 'message.failed', campaign_id: target.campaignId, contact: contact[0]!.phone, ...field };
        const r = await postEvents(t.url, t.key, batch ? { events: [event] } : event);
        tally.seen(r.status);
        expect([r.status, r.json.error]).toEqual([400, 'bad_request']);
      }),
      { numRuns: Math.ceil(RUNS / 10) },
    );
    tally.report();
    await expectUnharmed(target);
  });

  it(`POST /webhooks/whatsapp: ${RUNS} signed and unsigned bodies`, async () => {
    const target = await fuzzTarget();
    const tally = statusTally('webhook');
    const template = webhookBody([{ id: target.wamid, status: 'read', timestamp: 1781517960 }]);
    const mutated = fc
      .tuple(fc.nat({ max: template.length - 1 }), fc.string({ maxLength: 3 }))
      .map(([at, insert]) => template.slice(0, at) + insert + template.slice(at + 1));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutated,
          anyJson.map((v) => JSON.stringify({ object: 'whatsapp_business_account', entry: [v] })),
          fc
            .tuple(hostileText, hostileNumber)
            .map(([id, code]) =>
              webhookBody([{ id, status: 'failed', timestamp: 1781517960, error: { code, title: 'x' } }]),
            ),
          fc
            .tuple(hostileNumber, hostileText)
            .map(([code, title]) =>
              webhookBody([{ id: target.wamid, status: 'failed', timestamp: 1781517960, error: { code, title } }]),
            ),
          deepJson,
          anyJson.map((v) => JSON.stringify(v)),
          fc.string(),
        ),
        fc.constantFrom('signed', 'unsigned', 'wrong'),
        async (body, signing) => {
          const headers: Record<string, string> = { 'content-type': 'application/json' };
          if (signing === 'signed') headers['x-hub-signature-256'] = signWhatsAppBody(body, TEST_APP_SECRET);
          if (signing === 'wrong') headers['x-hub-signature-256'] = signWhatsAppBody(body, 'not the secret');
          const r = await rawRequest(`${t.url}/webhooks/whatsapp`, 'POST', headers, body);
          tally.seen(r.status);
          if (signing !== 'signed') expect(r.status).toBe(401);
        },
      ),
      { numRuns: RUNS },
    );
    tally.report();
    // Only the target's own id in a signed, well-formed body can name its contact: read proves
    // delivered, and a failure with a usable code may count.
    await expectUnharmed(target, ['read', 'delivered', 'failed', 'touched']);
  });

  it(`GET /webhooks/whatsapp and other paths: ${RUNS} queries`, async () => {
    const target = await fuzzTarget();
    const tally = statusTally('get');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/webhooks/whatsapp', '/healthz', '/readyz', '/nowhere', '/api/v1/campaigns', '/graphql'),
        fc.dictionary(fc.constantFrom('hub.mode', 'hub.verify_token', 'hub.challenge', 'x'), text, { maxKeys: 3 }),
        async (path, query) => {
          const search = new URLSearchParams(query).toString();
          const r = await rawRequest(`${t.url}${path}?${search}`, 'GET', {});
          tally.seen(r.status);
        },
      ),
      { numRuns: RUNS },
    );
    tally.report();
    await expectUnharmed(target);
  });

  it(`POST /graphql: ${RUNS} documents and variables`, async () => {
    const target = await fuzzTarget();
    const { campaignId } = target;
    const tally = statusTally('graphql');
    const field = fc.constantFrom(
      'campaignStats(campaignId: $id) { sentCount }',
      'campaign(id: $id) { id }',
      'campaigns(first: $n) { nodes { id } }',
      '__typename',
    );
    const document = fc.oneof(
      fc
        .array(field, { minLength: 1, maxLength: 3 })
        .map((fields) => `query($id: ID!, $n: Int) { ${fields.join(' ')} }`),
      fc.string({ maxLength: 80 }),
      fc.constantFrom(
        'mutation { startCampaign(id: "x") { id } }',
        '{',
        '}',
        'subscription { campaignStatsUpdated(campaignId: "x") { sentCount } }',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        document,
        fc.record(
          {
            id: fc.oneof(fc.constant(campaignId), fc.constant(MISSING), text, anyJson),
            n: fc.oneof(fc.integer(), hostileNumber, text, anyJson),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(
          fc.constant('application/json'),
          fc.constant('text/plain'),
          text.map((s) => s.replace(/[^\x20-\x7e]/g, '')),
        ),
        async (query, variables, contentType) => {
          const r = await rawRequest(
            `${t.url}/graphql`,
            'POST',
            { authorization: `Bearer ${t.key}`, 'content-type': contentType || 'application/json' },
            JSON.stringify({ query, variables }),
          );
          tally.seen(r.status);
        },
      ),
      { numRuns: RUNS },
    );
    tally.report();
    await expectUnharmed(target);
  });

  it(`graphql-ws: ${RUNS} messages, as a client would never send them`, async () => {
    const target = await fuzzTarget();
    const message = fc.oneof(
      anyJson.map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 60 }),
      fc
        .record({
          type: fc.constantFrom('subscribe', 'complete', 'ping', 'pong', 'connection_init', 'next', 'x'),
          id: fc.oneof(text, anyJson),
          payload: anyJson,
        })
        .map((m) => JSON.stringify(m)),
      fc.constant(
        JSON.stringify({
          type: 'subscribe',
          id: '1',
          payload: { query: `subscription { campaignStatsUpdated(campaignId: "${MISSING}") { sentCount } }` },
        }),
      ),
    );
    const messages = fc.sample(message, { numRuns: RUNS, seed: 42 });
    let sent = 0;
    while (sent < messages.length) {
      const socket = new WebSocket(`${t.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.once('open', () => {
          socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.key}` } }));
          resolve();
        });
      });
      await new Promise<void>((resolve) => {
        socket.once('message', () => resolve()); // connection_ack
      });
      // Send until the server closes the socket (a protocol violation) or 50 messages went through.
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      for (let i = 0; i < 50 && sent < messages.length && socket.readyState === WebSocket.OPEN; i++) {
        socket.send(messages[sent++]!);
        await new Promise((r) => setImmediate(r));
      }
      socket.close();
      const code = await closed;
      expect(code === 1000 || code === 1005 || (code >= 4400 && code < 4500)).toBe(true);
    }
    // The server still serves.
    expect((await restStats(t.url, t.key, target.campaignId)).status).toBe(200);
    await expectUnharmed(target);
  });

  it('WebSocket operations and REST reads of one key share one budget: never more accepted than it allows', async () => {
    const limited = await startTestApp({ rateLimitRps: 5, rateLimitBurst: 10 });
    try {
      const { id } = await createCampaign(limited.app.services.campaigns, limited.workspaceId, {
        name: 'limited',
        contacts: phones(2),
      });
      const operation = fc.oneof(
        fc.constant({ kind: 'ws', query: '{ campaigns(first: 1) { edges { cursor } } }' }),
        fc.constant({ kind: 'ws', query: `{ campaignStats(campaignId: "${id}") { sentCount } }` }),
        fc.constant({ kind: 'ws', query: '{ nope' }),
        fc.constant({ kind: 'rest', query: '' }),
      );
      const sockets = await Promise.all(
        [0, 1, 2].map(async () => {
          const socket = new WebSocket(`${limited.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
          const messages: { id?: string; type: string; payload?: any }[] = [];
          socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString())));
          await new Promise<void>((resolve) => socket.once('open', () => resolve()));
          socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${limited.key}` } }));
          while (!messages.some((m) => m.type === 'connection_ack')) await new Promise((r) => setTimeout(r, 5));
          return { socket, messages };
        }),
      );
      const started = Date.now();
      const plan = fc.sample(fc.array(operation, { minLength: 60, maxLength: 60 }), { numRuns: 1, seed: 7 })[0]!;
      let accepted = 0;
      let limitedCount = 0;
      let n = 0;
      for (const step of plan) {
        if (step.kind === 'rest') {
          const status = (await restStats(limited.url, limited.key, id)).status;
          expect(status === 200 || status === 429).toBe(true);
          if (status === 200) accepted++;
          else limitedCount++;
          continue;
        }
        const { socket, messages } = sockets[n++ % sockets.length]!;
        const opId = String(n);
        socket.send(JSON.stringify({ type: 'subscribe', id: opId, payload: { query: step.query } }));
        while (!messages.some((m) => m.id === opId && (m.type === 'error' || m.type === 'complete')))
          await new Promise((r) => setTimeout(r, 2));
        const error = messages.find((m) => m.id === opId && m.type === 'error');
        const code = error?.payload?.[0]?.extensions?.code as string | undefined;
        if (code === 'RATE_LIMITED') limitedCount++;
        else accepted++; // spent the budget: answered (parse errors too, they ran through the gate)
        expect(code === undefined || code === 'RATE_LIMITED' || code === 'GRAPHQL_PARSE_FAILED').toBe(true);
      }
      const seconds = (Date.now() - started) / 1000;
      // The window allows 10 at once and 5 a second: what passed is within that, whatever the transport.
      expect(accepted).toBeLessThanOrEqual(10 + Math.ceil(seconds + 2) * 5);
      expect(limitedCount).toBeGreaterThan(0);
      for (const { socket } of sockets) {
        expect(socket.readyState).toBe(WebSocket.OPEN); // over budget, the socket stays open
        socket.close();
      }
    } finally {
      await limited.stop();
    }
  });
});
