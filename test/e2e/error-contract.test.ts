import { createCampaign, phones } from '../factories/campaign.factory';
import { gql, postEvents, restStats } from '../support/http';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

const MISSING = 'aaaaaaaaaaaaaaaaaaaaaaaa';

describe('the error contract (docs/errors.md, docs/rest.md)', () => {
  let t: TestApp;
  let otherKey: string;
  // A fresh draft campaign for every test: tests move numbers and statuses, and none may see another's.
  let campaignId: string;
  let contacts: string[];

  beforeAll(async () => {
    t = await startTestApp();
    otherKey = (await t.newKey('someone-else')).key;
  });
  beforeEach(async () => {
    contacts = phones(3);
    campaignId = (await createCampaign(t.app.services.campaigns, t.workspaceId, { name: 'Errors', contacts })).id;
  });
  afterAll(() => t.stop());

  describe('REST stats', () => {
    it.each([
      ['not hex', 'zzzzzzzzzzzzzzzzzzzzzzzz'],
      ['too short', 'abc'],
      ['upper case', MISSING.toUpperCase()],
      ['too long', `${MISSING}0`],
    ])('400 for an id %s', async (_, id) => {
      const r = await restStats(t.url, t.key, id);
      expect([r.status, r.text]).toEqual([400, '{"error":"bad_request","message":"Invalid campaign_id"}']);
    });

    it('404 for a missing campaign and for another workspace’s, byte for byte the same', async () => {
      const missing = await restStats(t.url, t.key, MISSING);
      const theirs = await restStats(t.url, otherKey, campaignId);
      expect([missing.status, missing.text]).toEqual([404, '{"error":"not_found","message":"Campaign not found"}']);
      expect([theirs.status, theirs.text]).toEqual([missing.status, missing.text]);
    });

    it.each([
      ['no header', null],
      ['a wrong key', 'wapl_0000000000000000000000000000000000000000'],
      ['a malformed key', 'hunter2'],
    ])('401 with %s, checked before the id', async (_, key) => {
      for (const id of [campaignId, 'bad']) {
        const r = await restStats(t.url, key, id);
        expect(r.status).toBe(401);
        expect(r.json).toEqual({ error: 'unauthorized', message: 'Missing or invalid API key' });
      }
    });

    it('a strong ETag on every 200, and If-None-Match answered 304', async () => {
      const first = await restStats(t.url, t.key, campaignId);
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[^"]+"$/);
      const again = await restStats(t.url, t.key, campaignId, { 'if-none-match': etag });
      expect([again.status, again.text, again.headers.get('etag')]).toEqual([304, '', etag]);
      await postEvents(t.url, t.key, { type: 'message.sent', campaign_id: campaignId, contact: contacts[0] });
      const changed = await restStats(t.url, t.key, campaignId, { 'if-none-match': etag });
      expect(changed.status).toBe(200);
      expect(changed.json.sent_count).toBe(1);
      expect(changed.headers.get('etag')).not.toBe(etag);
    });

    it('unknown routes and methods answer JSON', async () => {
      const route = await fetch(`${t.url}/api/v1/nothing`);
      expect(route.status).toBe(404);
      expect(((await route.json()) as { error: string }).error).toBe('not_found');
      const method = await fetch(`${t.url}/api/v1/campaigns/${campaignId}/stats`, { method: 'DELETE' });
      expect(method.status).toBe(405);
      expect(method.headers.get('allow')).toBe('GET');
    });

    it('health and readiness', async () => {
      expect(await (await fetch(`${t.url}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${t.url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready', database: 'up' }]);
    });
  });

  describe('GraphQL', () => {
    const codeOf = (r: Awaited<ReturnType<typeof gql>>) => r.body.errors?.[0]?.extensions?.code;

    it('UNAUTHENTICATED (HTTP 401) without a valid key', async () => {
      for (const key of [null, 'wapl_0000000000000000000000000000000000000000']) {
        const r = await gql(t.url, key, `{ campaignStats(campaignId: "${campaignId}") { sentCount } }`);
        expect(r.status).toBe(401);
        expect(codeOf(r)).toBe('UNAUTHENTICATED');
        expect(r.body.data).toBeUndefined();
      }
    });

    it('BAD_USER_INPUT for a malformed id, NOT_FOUND for an unknown or foreign one, null for campaign()', async () => {
      expect(codeOf(await gql(t.url, t.key, `{ campaignStats(campaignId: "nope") { sentCount } }`))).toBe(
        'BAD_USER_INPUT',
      );
      const missing = await gql(t.url, t.key, `{ campaignStats(campaignId: "${MISSING}") { sentCount } }`);
      const theirs = await gql(t.url, otherKey, `{ campaignStats(campaignId: "${campaignId}") { sentCount } }`);
      expect(codeOf(missing)).toBe('NOT_FOUND');
      expect(theirs.body).toEqual(missing.body);
      const nullCampaign = await gql(t.url, otherKey, `{ campaign(id: "${campaignId}") { id } }`);
      expect(nullCampaign.body).toEqual({ data: { campaign: null } });
      const list = await gql(t.url, otherKey, `{ campaigns { edges { node { id } } } }`);
      expect(list.body.data.campaigns.edges).toEqual([]);
    });

    it('BAD_USER_INPUT for bad phone numbers, naming them, and for refused status moves', async () => {
      const bad = await gql(
        t.url,
        t.key,
        `mutation { createCampaign(input: { name: "x", contacts: ["+14155550123", "555-0123"] }) { id } }`,
      );
      expect(codeOf(bad)).toBe('BAD_USER_INPUT');
      expect(bad.body.errors![0]!.message).toContain('"555-0123"');
      const move = await gql(t.url, t.key, `mutation { completeCampaign(id: "${campaignId}") { status } }`);
      expect(codeOf(move)).toBe('BAD_USER_INPUT');
      expect(move.body.errors![0]!.message).toBe('Cannot move a campaign from draft to completed');
      const status = await gql(t.url, t.key, `{ campaign(id: "${campaignId}") { status } }`);
      expect(status.body.data.campaign.status).toBe('DRAFT');
      const date = await gql(
        t.url,
        t.key,
        `mutation($at: DateTime!) { scheduleCampaign(id: "${campaignId}", at: $at) { id } }`,
        {
          at: 'tomorrow',
        },
      );
      expect(codeOf(date)).toBe('BAD_USER_INPUT');
    });

    it('refuses abusive documents: depth, aliases, tokens; batches are off', async () => {
      const deep = await gql(t.url, t.key, `{ campaigns { edges { node { stats { failureReasons { code } } } } } }`);
      expect(deep.body.errors).toBeUndefined(); // a real query stays within the limits
      const aliases = Array.from(
        { length: 20 },
        (_, i) => `a${i}: campaignStats(campaignId: "${campaignId}") { sentCount }`,
      );
      const many = await gql(t.url, t.key, `{ ${aliases.join(' ')} }`);
      expect(many.status).toBe(400);
      expect(many.body.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const nested = `{ campaigns { edges { node { stats { failureReasons { code ${'__typename '.repeat(1)} } } } } } }`;
      expect((await gql(t.url, t.key, nested)).status).toBe(200);
      const tokens = await gql(t.url, t.key, `{ campaigns(first: 1) { nodes { id } } ${'__typename '.repeat(4000)} }`);
      expect(tokens.status).toBe(400);
      const batch = await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${t.key}` },
        body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
      });
      expect(batch.status).toBe(400);
    });

    it('hides the schema in production: no introspection, no landing page', async () => {
      const production = await startTestApp({ nodeEnv: 'production' });
      try {
        const r = await gql(production.url, production.key, '{ __schema { queryType { name } } }');
        expect(r.status).toBe(400);
        expect(r.body.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
        const landing = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
        expect(landing.status).not.toBe(200);
      } finally {
        await production.stop();
      }
    });

    it('a syntax error is the client’s, with its own code', async () => {
      const r = await gql(t.url, t.key, `{ campaignStats(`);
      expect(r.status).toBe(400);
      expect(codeOf(r)).toBe('GRAPHQL_PARSE_FAILED');
    });
  });

  describe('POST /api/v1/events refuses a bad batch whole, naming every bad event', () => {
    const countersNow = async () =>
      (
        await t.db.query(`SELECT sent, delivered, failed, touched FROM campaign_counters WHERE campaign_id = $1`, [
          campaignId,
        ])
      )[0];

    it('400 for malformed events, nothing applied', async () => {
      const before = await countersNow();
      const r = await postEvents(t.url, t.key, {
        events: [
          { type: 'message.delivered', campaign_id: campaignId, contact: contacts[1] },
          { type: 'message.exploded', campaign_id: campaignId, contact: contacts[1] },
          { type: 'message.read', campaign_id: campaignId, contact: 'nope' },
        ],
      });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe('bad_request');
      expect(r.json.details.map((d: { index: number }) => d.index)).toEqual([1, 2]);
      expect(await countersNow()).toEqual(before);
      const notJson = await postEvents(t.url, t.key, '{"events": [');
      expect([notJson.status, notJson.json]).toEqual([
        400,
        { error: 'bad_request', message: 'Body is not valid JSON' },
      ]);
    });

    it("404 for a missing or another workspace's campaign, nothing applied", async () => {
      const before = await countersNow();
      const r = await postEvents(t.url, otherKey, {
        events: [{ type: 'message.delivered', campaign_id: campaignId, contact: contacts[1] }],
      });
      expect(r.status).toBe(404);
      expect(r.json).toEqual({
        error: 'not_found',
        message: 'Campaign not found',
        details: [{ index: 0, reason: 'campaign not found' }],
      });
      const mixed = await postEvents(t.url, t.key, {
        events: [
          { type: 'message.delivered', campaign_id: campaignId, contact: contacts[1] },
          { type: 'message.delivered', campaign_id: MISSING, contact: contacts[1] },
        ],
      });
      expect(mixed.status).toBe(404);
      expect(mixed.json.details).toEqual([{ index: 1, reason: 'campaign not found' }]);
      expect(await countersNow()).toEqual(before);
    });

    it('422 for a contact not in the campaign or an unregistered message id, nothing applied', async () => {
      const before = await countersNow();
      const r = await postEvents(t.url, t.key, {
        events: [
          { type: 'message.delivered', campaign_id: campaignId, contact: contacts[1] },
          { type: 'message.delivered', campaign_id: campaignId, contact: '+19999999999' },
          { type: 'message.read', message_id: 'wamid.unknown' },
        ],
      });
      expect(r.status).toBe(422);
      expect(r.json.error).toBe('unprocessable_entity');
      expect(r.json.details).toEqual([
        { index: 1, reason: `contact +19999999999 is not in campaign ${campaignId}` },
        { index: 2, reason: 'message_id wamid.unknown is not registered' },
      ]);
      expect(await countersNow()).toEqual(before);
    });

    it('registers message ids, then names contacts by them; a clash is 422', async () => {
      const sent = await postEvents(t.url, t.key, {
        id: 'evt_reg_1',
        type: 'message.sent',
        campaign_id: campaignId,
        contact: contacts[2],
        message_id: 'wamid.reg1',
      });
      expect(sent).toEqual({ status: 200, json: { status: 'success', accepted: 1 } });
      const read = await postEvents(t.url, t.key, { type: 'message.read', message_id: 'wamid.reg1' });
      expect(read.status).toBe(200);
      const foreign = await postEvents(t.url, otherKey, { type: 'message.read', message_id: 'wamid.reg1' });
      expect(foreign.status).toBe(422);
      const clash = await postEvents(t.url, t.key, {
        type: 'message.sent',
        campaign_id: campaignId,
        contact: contacts[1],
        message_id: 'wamid.reg1',
      });
      expect(clash.status).toBe(422);
      expect(clash.json.details[0].reason).toBe('message_id wamid.reg1 is registered to another contact');
      const stats = await restStats(t.url, t.key, campaignId);
      expect(stats.json).toMatchObject({ sent_count: 1, delivered_count: 1, read_count: 1 });
    });

    it('401 without a key, 413 past the body limit, 405 for other methods', async () => {
      expect((await postEvents(t.url, null, { type: 'message.sent' })).status).toBe(401);
      const huge = await fetch(`${t.url}/api/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${t.key}`, 'content-type': 'application/json' },
        body: 'x'.repeat(9 * 1024 * 1024),
      });
      expect(huge.status).toBe(413);
      expect(((await huge.json()) as { error: string }).error).toBe('payload_too_large');
      expect((await fetch(`${t.url}/api/v1/events`)).status).toBe(405);
    });
  });

  describe('rate limits', () => {
    it('429 with Retry-After on REST, RATE_LIMITED on GraphQL, per key', async () => {
      const limited = await startTestApp({ rateLimitRps: 1, rateLimitBurst: 2 });
      try {
        const id = (
          await limited.app.services.campaigns.create(limited.workspaceId, { name: 'r', contacts: phones(1) })
        ).id;
        expect((await restStats(limited.url, limited.key, id)).status).toBe(200);
        expect((await restStats(limited.url, limited.key, id)).status).toBe(200);
        const over = await restStats(limited.url, limited.key, id);
        expect(over.status).toBe(429);
        expect(over.json.error).toBe('rate_limited');
        expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        const graph = await gql(limited.url, limited.key, `{ campaignStats(campaignId: "${id}") { sentCount } }`);
        expect(graph.status).toBe(429);
        expect(graph.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
        const other = await limited.newKey('other');
        expect((await restStats(limited.url, other.key, id)).status).toBe(404);
        // Unauthenticated requests are limited per address, so a flood of wrong keys is too.
        const anonymous = [];
        for (let i = 0; i < 4; i++)
          anonymous.push((await restStats(limited.url, 'wapl_0000000000000000000000000000000000000000', id)).status);
        expect(anonymous.slice(0, 2)).toEqual([401, 401]);
        expect(anonymous).toContain(429);
        // ingestion is not limited by key
        const events = await postEvents(limited.url, limited.key, {
          type: 'message.sent',
          campaign_id: id,
          contact: '+15550000001',
        });
        expect(events.status).toBe(422);
      } finally {
        await limited.stop();
      }
    });
  });

  describe('anything unexpected', () => {
    it('is 500 internal_error on REST and masked INTERNAL_SERVER_ERROR on GraphQL: no stack, no SQL', async () => {
      const broken = await startTestApp();
      try {
        const id = (await broken.app.services.campaigns.create(broken.workspaceId, { name: 'b', contacts: phones(1) }))
          .id;
        await broken.db.query(`ALTER TABLE campaign_failure_reasons RENAME TO gone`);
        const graph = await gql(
          broken.url,
          broken.key,
          `{ campaignStats(campaignId: "${id}") { sentCount failureReasons { code } } }`,
        );
        expect(graph.body.errors).toEqual([
          {
            message: 'Unexpected error.',
            path: ['campaignStats', 'failureReasons'],
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          },
        ]);
        await broken.db.query(`ALTER TABLE campaign_counters RENAME TO gone_too`);
        const rest = await restStats(broken.url, broken.key, id);
        expect([rest.status, rest.text]).toEqual([500, '{"error":"internal_error","message":"Unexpected error."}']);
      } finally {
        await broken.stop();
      }
    });
  });
});
