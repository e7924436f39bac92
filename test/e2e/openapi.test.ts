import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { phones } from '../factories/campaign.factory';
import { startTcpProxy } from '../support/tcp-proxy';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';
import { webhookBody } from '../support/whatsapp';
import { signWhatsAppBody } from '../../src/ingest/whatsapp.signature';
import { TEST_APP_SECRET, TEST_VERIFY_TOKEN } from '../support/test-app';

/**
 * The generated `/openapi.json` held against the running server: a table of requests, per route,
 * that makes it answer every status its document names; each answer must be documented for its
 * operation and match the documented schema. And the document passes redocly's recommended lint.
 */

type Apps = Record<'ok' | 'limited' | 'broken' | 'down' | 'unsigned', TestApp>;
interface Case {
  operation: string;
  status: number;
  app?: keyof Apps;
  method: string;
  path: (ids: Ids) => string;
  /** the document's path template */
  template: string;
  headers?: (apps: Apps, ids: Ids) => Record<string, string>;
  body?: (ids: Ids) => string;
}
interface Ids {
  campaign: string;
  contact: string;
  etag: string;
  /** a tracked link of the campaign (the ok app only) */
  link?: string;
}

const STATS = '/api/v1/campaigns/{campaign_id}/stats';
const key = (app: keyof Apps) => (apps: Apps) =>
  app === 'broken' ? freshKey() : { authorization: `Bearer ${apps[app].key}` };
const json = { 'content-type': 'application/json' };
// The broken app's key table is gone: an uncached key fails in the key lookup, before execution.
const freshKey = () => ({ authorization: `Bearer wapl_${randomBytes(20).toString('hex')}` });
const WRONG_KEY = { authorization: 'Bearer wapl_0000000000000000000000000000000000000000' };
const stats = (status: number, app: keyof Apps, extra: Partial<Case> = {}): Case => ({
  operation: 'getCampaignStats',
  status,
  app,
  method: 'GET',
  template: STATS,
  path: (ids) => `/api/v1/campaigns/${ids.campaign}/stats`,
  headers: key(app),
  ...extra,
});
const events = (status: number, app: keyof Apps, body: (ids: Ids) => unknown, extra: Partial<Case> = {}): Case => ({
  operation: 'postDispatcherEvents',
  status,
  app,
  method: 'POST',
  template: '/api/v1/events',
  path: () => '/api/v1/events',
  headers: (apps) => ({ ...json, ...key(app)(apps) }),
  body: (ids) => JSON.stringify(body(ids)),
  ...extra,
});
const contacts = (status: number, app: keyof Apps, extra: Partial<Case> = {}): Case => ({
  operation: 'getCampaignContacts',
  status,
  app,
  method: 'GET',
  template: '/api/v1/campaigns/{campaign_id}/contacts',
  path: (ids) => `/api/v1/campaigns/${ids.campaign}/contacts?filter=pending&limit=1`,
  headers: key(app),
  ...extra,
});
const A24 = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const linkUrls = (status: number, app: keyof Apps, extra: Partial<Case> = {}): Case =>
  contacts(status, app, {
    operation: 'exportTrackedLinkUrls',
    template: '/api/v1/campaigns/{campaign_id}/links/{link_id}/urls.csv',
    path: (ids) => `/api/v1/campaigns/${ids.campaign}/links/${ids.link ?? A24}/urls.csv`,
    ...extra,
  });
const signed = (text: string) => ({ ...json, 'x-hub-signature-256': signWhatsAppBody(text, TEST_APP_SECRET) });
const webhook = (status: number, app: keyof Apps, text: string, headers = signed(text)): Case => ({
  operation: 'receiveWhatsAppWebhook',
  status,
  app,
  method: 'POST',
  template: '/webhooks/whatsapp',
  path: () => '/webhooks/whatsapp',
  headers: () => headers,
  body: () => text,
});
const query = '{ campaigns(first: 1) { edges { node { id } } } }';
const graphql = (status: number, app: keyof Apps, method: 'GET' | 'POST', extra: Partial<Case> = {}): Case => ({
  operation: method === 'GET' ? 'graphqlGet' : 'graphqlPost',
  status,
  app,
  method,
  template: '/graphql',
  path: () => (method === 'GET' ? `/graphql?query=${encodeURIComponent(query)}` : '/graphql'),
  headers: (apps) => ({ ...(method === 'POST' ? json : {}), ...key(app)(apps) }),
  ...(method === 'POST' ? { body: () => JSON.stringify({ query }) } : {}),
  ...extra,
});
const open = (operation: string, path: string, status = 200, app: keyof Apps = 'ok'): Case => ({
  operation,
  status,
  app,
  method: 'GET',
  template: path,
  path: () => path,
});
const readBody = webhookBody([{ id: 'wamid.openapi', status: 'read', timestamp: 1781517960 }]);

const CASES: Case[] = [
  stats(200, 'ok'),
  stats(304, 'ok', { headers: (apps, ids) => ({ ...key('ok')(apps), 'if-none-match': ids.etag }) }),
  stats(400, 'ok', { path: () => '/api/v1/campaigns/NOT-AN-ID/stats' }),
  stats(401, 'ok', { headers: () => WRONG_KEY }),
  stats(404, 'ok', { path: () => '/api/v1/campaigns/aaaaaaaaaaaaaaaaaaaaaaaa/stats' }),
  stats(200, 'limited'),
  stats(429, 'limited'),
  stats(500, 'broken'),
  stats(503, 'down'),
  stats(200, 'ok', { operation: 'getCampaignStats-head', method: 'HEAD' }),
  stats(401, 'ok', { operation: 'getCampaignStats-head', method: 'HEAD', headers: () => WRONG_KEY }),
  contacts(200, 'ok'),
  contacts(400, 'ok', { path: (ids) => `/api/v1/campaigns/${ids.campaign}/contacts?limit=x` }),
  contacts(401, 'ok', { headers: () => WRONG_KEY }),
  contacts(404, 'ok', { path: () => '/api/v1/campaigns/aaaaaaaaaaaaaaaaaaaaaaaa/contacts' }),
  contacts(200, 'limited'),
  contacts(429, 'limited'),
  contacts(500, 'broken'),
  contacts(503, 'down'),
  ...[200, 400, 401, 404, 429, 500, 503].map((status) =>
    contacts(status, status === 429 ? 'limited' : status === 500 ? 'broken' : status === 503 ? 'down' : 'ok', {
      operation: 'exportCampaignContacts',
      template: '/api/v1/campaigns/{campaign_id}/contacts.csv',
      path: (ids: Ids) =>
        status === 404
          ? '/api/v1/campaigns/aaaaaaaaaaaaaaaaaaaaaaaa/contacts.csv'
          : `/api/v1/campaigns/${ids.campaign}/contacts.csv${status === 400 ? '?filter=x' : ''}`,
      ...(status === 401 ? { headers: () => WRONG_KEY } : {}),
    }),
  ),
  linkUrls(200, 'ok'),
  linkUrls(400, 'ok', { path: (ids) => `/api/v1/campaigns/${ids.campaign}/links/x/urls.csv` }),
  linkUrls(401, 'ok', { headers: () => WRONG_KEY }),
  linkUrls(404, 'ok', { path: (ids) => `/api/v1/campaigns/${ids.campaign}/links/${A24}/urls.csv` }),
  linkUrls(429, 'limited'),
  linkUrls(500, 'broken'),
  linkUrls(503, 'down'),
  events(200, 'ok', (ids) => ({ type: 'message.sent', campaign_id: ids.campaign, contact: ids.contact })),
  events(400, 'ok', () => ({ type: 'message.nope' })),
  events(401, 'ok', () => ({ type: 'message.sent' }), { headers: () => ({ ...json, ...WRONG_KEY }) }),
  events(404, 'ok', (ids) => ({ type: 'message.sent', campaign_id: 'aaaaaaaaaaaaaaaaaaaaaaaa', contact: ids.contact })),
  events(413, 'ok', () => ({ type: 'message.sent', pad: 'x'.repeat(9 * 1024 * 1024) })),
  events(422, 'ok', (ids) => ({ type: 'message.sent', campaign_id: ids.campaign, contact: '+19990000000' })),
  events(401, 'limited', () => ({}), { headers: () => ({ ...json, ...WRONG_KEY }) }),
  events(429, 'limited', () => ({}), { headers: () => ({ ...json, ...WRONG_KEY }) }),
  events(500, 'broken', (ids) => ({ type: 'message.read', campaign_id: ids.campaign, contact: ids.contact })),
  events(503, 'down', (ids) => ({ type: 'message.read', campaign_id: ids.campaign, contact: ids.contact })),
  {
    ...open('verifyWhatsAppWebhook', '/webhooks/whatsapp'),
    path: () => `/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=${TEST_VERIFY_TOKEN}&hub.challenge=42`,
  },
  {
    ...open('verifyWhatsAppWebhook', '/webhooks/whatsapp', 403),
    path: () => '/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=42',
  },
  webhook(200, 'ok', readBody),
  webhook(400, 'ok', '{"object":"page","entry":[]}'),
  webhook(400, 'ok', 'not json'),
  webhook(401, 'ok', readBody, { ...json, 'x-hub-signature-256': 'sha256=00' }),
  webhook(413, 'ok', `{"pad":"${'x'.repeat(1024 * 1024)}"}`),
  webhook(500, 'broken', webhookBody([{ id: 'wamid.broken', status: 'read', timestamp: 1781517960 }])),
  webhook(503, 'down', webhookBody([{ id: 'wamid.down', status: 'read', timestamp: 1781517960 }])),
  webhook(503, 'unsigned', readBody),
  graphql(200, 'ok', 'GET'),
  graphql(400, 'ok', 'GET', { path: () => '/graphql?query=%7B' }),
  graphql(401, 'ok', 'GET', { headers: () => WRONG_KEY }),
  graphql(200, 'limited', 'GET'),
  graphql(429, 'limited', 'GET'),
  graphql(500, 'broken', 'GET', {
    path: (ids) =>
      `/graphql?query=${encodeURIComponent(`{ campaignStats(campaignId: "${ids.campaign}") { sentCount } }`)}`,
  }),
  graphql(503, 'down', 'GET'),
  graphql(200, 'ok', 'POST'),
  graphql(400, 'ok', 'POST', { body: () => JSON.stringify({ query: '{' }) }),
  graphql(401, 'ok', 'POST', { headers: () => ({ ...json, ...WRONG_KEY }) }),
  graphql(413, 'ok', 'POST', { body: () => JSON.stringify({ query, pad: 'x'.repeat(5 * 1024 * 1024) }) }),
  graphql(200, 'limited', 'POST'),
  graphql(429, 'limited', 'POST'),
  graphql(500, 'broken', 'POST', {
    body: (ids) => JSON.stringify({ query: `{ campaignStats(campaignId: "${ids.campaign}") { sentCount } }` }),
  }),
  graphql(503, 'down', 'POST'),
  open('getHealth', '/healthz'),
  open('getReadiness', '/readyz'),
  open('getReadiness', '/readyz', 503, 'down'),
  open('getMetrics', '/metrics'),
  open('getOpenApiDocument', '/openapi.json'),
  open('getDashboard', '/'),
  open('getDashboardScript', '/dashboard.js'),
  open('getDashboardStyles', '/dashboard.css'),
  open('getDashboardChartScript', '/vendor/uPlot.iife.min.js'),
  open('getDashboardChartStyles', '/vendor/uPlot.min.css'),
  open('getFavicon', '/favicon.svg'),
];

// Statuses no request here can provoke quickly: Node's own 408 after REQUEST_TIMEOUT_MS.
const NOT_REPLAYED = new Set([408]);

describe('GET /openapi.json, held against the running server', () => {
  const apps = {} as Apps;
  const idsOf: Partial<Record<keyof Apps, Ids>> = {};
  let doc: any;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  beforeAll(async () => {
    apps.ok = await startTestApp();
    apps.limited = await startTestApp({ rateLimitRps: 1, rateLimitBurst: 1 });
    apps.broken = await startTestApp();
    apps.unsigned = await startTestApp({ whatsappAppSecret: null });
    proxy = await startTcpProxy(apps.ok.databaseUrl);
    apps.down = await startTestApp({}, { ...apps.ok, databaseUrl: proxy.url });
    const contacts = phones(2);
    for (const name of ['ok', 'limited', 'broken', 'unsigned'] as const) {
      const app = apps[name];
      const { id } = await app.app.services.campaigns.create(app.workspaceId, { name: 'openapi', contacts });
      const first = await fetch(`${app.url}/api/v1/campaigns/${id}/stats`, { headers: key(name)(apps) });
      idsOf[name] = { campaign: id, contact: contacts[0]!, etag: first.headers.get('etag')! };
    }
    const made = await fetch(`${apps.ok.url}/graphql`, {
      method: 'POST',
      headers: { ...json, ...key('ok')(apps) },
      body: JSON.stringify({
        query: 'mutation($c: ID!, $u: String!) { createTrackedLink(campaignId: $c, url: $u) { id } }',
        variables: { c: idsOf.ok!.campaign, u: `${apps.ok.url}/healthz` },
      }),
    });
    idsOf.ok!.link = ((await made.json()) as any).data.createTrackedLink.id;
    const urls = await fetch(`${apps.ok.url}/api/v1/campaigns/${idsOf.ok!.campaign}/links/${idsOf.ok!.link}/urls.csv`, {
      headers: key('ok')(apps),
    });
    expect(urls.status).toBe(200);
    idsOf.down = idsOf.ok!;
    await apps.broken.db.query(`ALTER TABLE campaign_counters RENAME TO gone`);
    await apps.broken.db.query(`ALTER TABLE contact_messages RENAME TO gone_too`);
    await apps.broken.db.query(`ALTER TABLE api_keys RENAME TO gone_keys`);
    doc = await (await fetch(`${apps.ok.url}/openapi.json`)).json();
    ajv.addSchema({ $id: 'openapi.json', components: doc.components });
  });
  afterAll(async () => {
    proxy.restore();
    for (const app of Object.values(apps)) await app.stop().catch(() => {});
    await proxy.stop();
  });

  it('passes redocly lint with its recommended rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'csg-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(doc));
    const output = execFileSync(join(__dirname, '../../node_modules/.bin/redocly'), ['lint', 'openapi.json'], {
      cwd: dir,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(output).not.toMatch(/error|warning/i);
  });

  it('names an operationId, servers and both security schemes', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers[0].url).toMatch(/^http/);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(['apiKey', 'webhookSignature']);
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, operation] of Object.entries<any>(item)) {
        expect([path, method, typeof operation.operationId]).toEqual([path, method, 'string']);
      }
    }
  });

  it('every answer of the table is documented for its operation, with its shape', async () => {
    const seen = new Set<string>();
    const down = CASES.filter((c) => c.app === 'down');
    for (const c of [...CASES.filter((c) => c.app !== 'down'), ...down]) {
      if (c.app === 'down') proxy.cut();
      // The limited app allows one request a second: each expected 200 there starts a fresh window.
      if (c.app === 'limited' && c.status !== 429) await new Promise((resolve) => setTimeout(resolve, 1100));
      const app = apps[c.app ?? 'ok'];
      const ids = idsOf[c.app ?? 'ok']!;
      const response = await fetch(`${app.url}${c.path(ids)}`, {
        method: c.method,
        headers: c.headers?.(apps, ids) ?? {},
        ...(c.body ? { body: c.body(ids) } : {}),
      });
      const text = await response.text();
      const label = `${c.method} ${c.path(ids).slice(0, 80)} (${c.app})`;
      expect([label, response.status]).toEqual([label, c.status]);
      const operation = Object.values<any>(doc.paths[c.template]).find((o) => o.operationId === c.operation);
      expect([label, operation?.operationId]).toEqual([label, c.operation]);
      const documented = operation.responses[String(response.status)];
      expect([label, documented !== undefined]).toEqual([label, true]);
      seen.add(`${c.operation} ${response.status}`);
      if (c.method === 'HEAD' || !documented.content) {
        expect([label, text]).toEqual([label, '']);
        continue;
      }
      const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!;
      const schema = documented.content[mediaType]?.schema;
      expect([label, mediaType, schema !== undefined]).toEqual([label, mediaType, true]);
      if (mediaType !== 'application/json') continue;
      const validate = schema.$ref ? ajv.getSchema(`openapi.json${schema.$ref}`)! : ajv.compile(schema);
      if (!validate(JSON.parse(text))) throw new Error(`${label}: ${JSON.stringify(validate.errors)} for ${text}`);
    }
    proxy.restore();
    const documented = Object.values<any>(doc.paths).flatMap((item) =>
      Object.values<any>(item)
        .filter((o) => !o.operationId.endsWith('-head'))
        .flatMap((o) => Object.keys(o.responses).map((status) => `${o.operationId} ${status}`)),
    );
    const missing = documented.filter((d) => !seen.has(d) && !NOT_REPLAYED.has(Number(d.split(' ')[1])));
    expect(missing).toEqual([]);
  });
});
