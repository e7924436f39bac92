import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { phones } from '../factories/campaign.factory';
import { createLogger } from '../../src/logger';
import { restStats } from '../support/http';
import { liveClient, rawInit } from '../support/live';
import { startTcpProxy } from '../support/tcp-proxy';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

/** One GraphQL operation over an open graphql-ws client: its result, or the errors it ended with. */
function runOverSocket(
  client: ReturnType<typeof createClient>,
  query: string,
): Promise<{ data?: any; errors?: any[] }> {
  return new Promise((resolve) => {
    let result: { data?: any; errors?: any[] } = {};
    client.subscribe(
      { query },
      {
        next: (value) => (result = value as typeof result),
        error: (error) => resolve({ errors: Array.isArray(error) ? error : [error] }),
        complete: () => resolve(result),
      },
    );
  });
}

describe('one edge: the same rules on every transport (docs/errors.md, docs/live.md)', () => {
  let t: TestApp;
  let campaignId: string;

  beforeAll(async () => {
    t = await startTestApp();
    campaignId = (await t.app.services.campaigns.create(t.workspaceId, { name: 'edge', contacts: phones(2) })).id;
  });
  afterAll(() => t.stop());

  it('matches paths exactly: no duplicate slashes, no trailing slash, no case folding', async () => {
    for (const path of [
      '//x/metrics',
      '//metrics',
      '/metrics/',
      '/METRICS',
      `/api/v1/campaigns/${campaignId}/stats/`,
    ]) {
      const response = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${t.key}` } });
      expect([path, response.status]).toEqual([path, 404]);
      expect(((await response.json()) as { error: string }).error).toBe('not_found');
    }
    expect((await fetch(`${t.url}/metrics`)).status).toBe(200);
  });

  it('405 with Allow for a known path, HEAD answered without a body', async () => {
    const put = await fetch(`${t.url}/webhooks/whatsapp`, { method: 'PUT' });
    expect([put.status, put.headers.get('allow')]).toEqual([405, 'GET, POST']);
    expect(await put.json()).toEqual({ error: 'method_not_allowed', message: 'Use GET, POST' });
    const head = await fetch(`${t.url}/api/v1/campaigns/${campaignId}/stats`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect([head.status, await head.text(), head.headers.get('etag')]).toEqual([200, '', expect.stringMatching(/^"/)]);
  });

  it('every 401 carries WWW-Authenticate: Bearer, on REST, events and GraphQL', async () => {
    const responses = [
      await fetch(`${t.url}/api/v1/campaigns/${campaignId}/stats`),
      await fetch(`${t.url}/api/v1/events`, { method: 'POST', body: '{}' }),
      await fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"query":"{ campaigns { edges { cursor } } }"}',
      }),
    ];
    for (const response of responses) {
      expect([response.status, response.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
    }
  });

  it('serves GraphQL queries over GET when an Authorization header is sent, never mutations', async () => {
    const query = encodeURIComponent('{ campaigns(first: 1) { edges { node { id } } } }');
    const get = await fetch(`${t.url}/graphql?query=${query}`, { headers: { authorization: `Bearer ${t.key}` } });
    expect(get.status).toBe(200);
    expect(((await get.json()) as any).data.campaigns.edges).toHaveLength(1);
    const mutation = encodeURIComponent(`mutation { startCampaign(id: "${campaignId}") { status } }`);
    const refused = await fetch(`${t.url}/graphql?query=${mutation}`, {
      headers: { authorization: `Bearer ${t.key}` },
    });
    expect(refused.status).toBe(405);
    const status = await restStats(t.url, t.key, campaignId);
    expect(status.json.campaign_status).toBe('draft');
  });

  it('never logs an API key: authorization headers and connection params are redacted', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line));
    logger.info('probe', {
      headers: { authorization: `Bearer ${t.key}` },
      connectionParams: { Authorization: `Bearer ${t.key}` },
      key: t.key,
    });
    expect(lines.join('')).not.toContain(t.key);
    expect(lines.join('')).toContain('[redacted]');
  });

  it('behind a trusted proxy, failed authentications spend the client named by X-Forwarded-For, not the proxy', async () => {
    const wrong = { authorization: 'Bearer wapl_0000000000000000000000000000000000000000' };
    const statuses = async (app: TestApp, client: string, n: number) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const r = await fetch(`${app.url}/api/v1/campaigns/${campaignId}/stats`, {
          headers: { ...wrong, 'x-forwarded-for': client },
        });
        out.push(r.status);
      }
      return out;
    };
    const behindProxy = await startTestApp({ rateLimitRps: 1, rateLimitBurst: 2, trustProxy: ['loopback'] });
    const direct = await startTestApp({ rateLimitRps: 1, rateLimitBurst: 2 });
    try {
      expect(await statuses(behindProxy, '203.0.113.7', 3)).toEqual([401, 401, 429]);
      expect(await statuses(behindProxy, '198.51.100.9', 1)).toEqual([401]); // another client: its own budget
      expect(await statuses(direct, '203.0.113.7', 3)).toEqual([401, 401, 429]);
      expect(await statuses(direct, '198.51.100.9', 1)).toEqual([429]); // X-Forwarded-For is not believed
    } finally {
      await behindProxy.stop();
      await direct.stop();
    }
  });

  describe('over WebSocket', () => {
    it('accepts Authorization in any letter case in connection_init, or on the upgrade request', async () => {
      const query = '{ campaigns(first: 1) { edges { node { id } } } }';
      for (const params of [{ Authorization: `Bearer ${t.key}` }, { AUTHORIZATION: `bearer ${t.key}` }]) {
        const client = createClient({
          url: `${t.url.replace('http', 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          connectionParams: params,
          retryAttempts: 0,
        });
        expect((await runOverSocket(client, query)).data.campaigns.edges).toHaveLength(1);
        await client.dispose();
      }
      const key = t.key;
      class WithHeader extends WebSocket {
        constructor(address: string, protocols?: string | string[]) {
          super(address, protocols, { headers: { Authorization: `Bearer ${key}` } });
        }
      }
      const viaHeader = createClient({
        url: `${t.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WithHeader,
        retryAttempts: 0,
      });
      expect((await runOverSocket(viaHeader, query)).data.campaigns.edges).toHaveLength(1);
      await viaHeader.dispose();
    });

    it("a parse or validation error is the client's, with the codes GraphQL over HTTP gives", async () => {
      const { client } = liveClient(t.url, t.key);
      const parse = await runOverSocket(client, '{');
      expect(parse.errors![0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
      const invalid = await runOverSocket(client, '{ campaignz }');
      expect(invalid.errors![0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(invalid.errors![0].message).not.toContain('Did you mean'); // no map of the schema, as over HTTP
      await client.dispose();
    });

    it('spends the same per-key budget as HTTP: RATE_LIMITED, the socket stays open', async () => {
      const limited = await startTestApp({ rateLimitRps: 1, rateLimitBurst: 3 });
      try {
        let closedWith: unknown = 'open';
        const client = createClient({
          url: `${limited.url.replace('http', 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${limited.key}` },
          retryAttempts: 0,
          lazy: false,
          on: { closed: (event) => (closedWith = (event as { code: number }).code) },
        });
        const query = '{ campaigns(first: 1) { edges { cursor } } }';
        const results = [];
        for (let i = 0; i < 4; i++) results.push(await runOverSocket(client, query));
        const codes = results.map((r) => r.errors?.[0]?.extensions?.code ?? 'ok');
        expect(codes).toEqual(['ok', 'ok', 'ok', 'RATE_LIMITED']);
        // the same budget: REST is over it too
        const rest = await fetch(`${limited.url}/metrics`);
        expect(rest.status).toBe(200);
        const stats = await restStats(limited.url, limited.key, 'aaaaaaaaaaaaaaaaaaaaaaaa');
        expect(stats.status).toBe(429);
        expect(closedWith).toBe('open');
        // Backpressure: nothing more is read from that socket until the budget refills; then its
        // next operation is read, and answered.
        const held = Date.now();
        const after = await runOverSocket(client, query);
        expect(Date.now() - held).toBeGreaterThanOrEqual(800);
        expect(after.errors).toBeUndefined();
        expect(closedWith).toBe('open');
        await client.dispose();
        // connection_init with wrong keys is limited per address before any lookup: 4403, then 4429
        const codesOfInit = [];
        for (let i = 0; i < 5; i++)
          codesOfInit.push(
            (await rawInit(limited.url, { authorization: 'Bearer wapl_wrongwrongwrongwrongwrongwrongwrong' })).code,
          );
        expect(codesOfInit.slice(0, 3)).toEqual([4403, 4403, 4403]);
        expect(codesOfInit.slice(3)).toEqual([4429, 4429]);
      } finally {
        await limited.stop();
      }
    });

    it('with the database away and the key lookup expired, an operation is SERVICE_UNAVAILABLE; the socket stays open', async () => {
      const proxy = await startTcpProxy(t.databaseUrl);
      const behind = await startTestApp({}, { ...t, databaseUrl: proxy.url });
      try {
        let closedWith: unknown = 'open';
        const client = createClient({
          url: `${behind.url.replace('http', 'ws')}/graphql`,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${t.key}` },
          retryAttempts: 0,
          lazy: false,
          on: { closed: (event) => (closedWith = (event as { code: number }).code) },
        });
        expect((await runOverSocket(client, '{ __typename }')).data).toEqual({ __typename: 'Query' });
        proxy.cut();
        await new Promise((resolve) => setTimeout(resolve, 5_300)); // past the 5 s key cache
        const refused = await runOverSocket(client, '{ __typename }');
        expect(refused.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
        expect(closedWith).toBe('open');
        proxy.restore();
        await client.dispose();
      } finally {
        proxy.restore();
        await behind.stop();
        await proxy.stop();
      }
    });

    it('refuses introspection in production, as HTTP does', async () => {
      const production = await startTestApp({ nodeEnv: 'production' });
      try {
        const { client } = liveClient(production.url, production.key);
        const result = await runOverSocket(client, '{ __schema { types { name } } }');
        expect(result.errors![0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
        await client.dispose();
        const http = await fetch(`${production.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${production.key}` },
          body: JSON.stringify({ query: '{ __schema { types { name } } }' }),
        });
        expect(((await http.json()) as any).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      } finally {
        await production.stop();
      }
    });
  });
});
