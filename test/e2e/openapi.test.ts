import Ajv2020 from 'ajv/dist/2020';
import { phones } from '../factories/campaign.factory';
import { postEvents, restStats } from '../support/http';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';
import { postWebhook, webhookBody } from '../support/whatsapp';

describe('GET /openapi.json, checked against the running server', () => {
  let t: TestApp;
  let doc: any;
  let check: (path: string, method: string, status: number, body: unknown) => void;

  beforeAll(async () => {
    t = await startTestApp();
    const response = await fetch(`${t.url}/openapi.json`);
    expect(response.status).toBe(200);
    doc = await response.json();
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    ajv.addSchema({ $id: 'openapi.json', components: doc.components });
    check = (path, method, status, body) => {
      const documented = doc.paths[path][method].responses[String(status)];
      expect(documented).toBeDefined();
      const ref: string = documented.content['application/json'].schema.$ref;
      const validate = ajv.getSchema(`openapi.json${ref}`)!;
      const ok = validate(body);
      if (!ok)
        throw new Error(`${method} ${path} ${status}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(body)}`);
    };
  });
  afterAll(() => t.stop());

  it('is OpenAPI 3.1 and covers the REST path, the events endpoint and the webhook', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/api/v1/campaigns/{campaign_id}/stats',
      '/api/v1/events',
      '/webhooks/whatsapp',
    ]);
  });

  it('every answer the server gives has the documented status and shape', async () => {
    const contacts = phones(2);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'openapi', contacts });
    const stats = '/api/v1/campaigns/{campaign_id}/stats';
    const ok = await restStats(t.url, t.key, id);
    check(stats, 'get', ok.status, ok.json);
    for (const [key, campaign] of [
      [t.key, 'bad'],
      [null, id],
      [t.key, 'aaaaaaaaaaaaaaaaaaaaaaaa'],
    ] as const) {
      const r = await restStats(t.url, key, campaign);
      check(stats, 'get', r.status, r.json);
    }
    const notModified = await restStats(t.url, t.key, id, { 'if-none-match': ok.headers.get('etag')! });
    expect(doc.paths[stats].get.responses[String(notModified.status)]).toBeDefined();

    const events = '/api/v1/events';
    for (const body of [
      { events: [{ type: 'message.sent', campaign_id: id, contact: contacts[0], message_id: 'wamid.oa' }] },
      { type: 'nope' },
      { type: 'message.sent', campaign_id: 'aaaaaaaaaaaaaaaaaaaaaaaa', contact: contacts[0] },
      { type: 'message.sent', campaign_id: id, contact: '+19990000000' },
    ]) {
      const r = await postEvents(t.url, t.key, body);
      check(events, 'post', r.status, r.json);
    }
    const unauthorized = await postEvents(t.url, null, { type: 'message.sent' });
    check(events, 'post', unauthorized.status, unauthorized.json);

    const webhook = '/webhooks/whatsapp';
    const body = webhookBody([{ id: 'wamid.oa', status: 'read', timestamp: 1781517960 }]);
    for (const [sent, signed] of [
      [body, true],
      [body, false],
      ['{"object":"page","entry":[]}', true],
    ] as const) {
      const r = await postWebhook(t.url, sent, signed ? undefined : 'sha256=00');
      check(webhook, 'post', r.status, r.json);
    }
    const handshake = await fetch(`${t.url}${webhook}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`);
    check(webhook, 'get', handshake.status, await handshake.json());
  });
});
