import { signWhatsAppBody } from '../../src/ingest/whatsapp.signature';
import { phones } from '../factories/campaign.factory';
import { whatsappFixture } from '../support/fixtures';
import { gql, postEvents, restStats } from '../support/http';
import { storedAndRecounted } from '../support/recount';
import type { TestApp } from '../support/test-app';
import { TEST_APP_SECRET, TEST_VERIFY_TOKEN, startTestApp } from '../support/test-app';
import { postWebhook, webhookBody } from '../support/whatsapp';

const WAMID = 'wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI3QTQ4MTI2QjQ4RjI0MzM2NUUA';
const FAILED_WAMID = 'wamid.HBgLMTY1MDUwNzY1MjEVAgARGBJGRkE5RDE0NUUxQkQ0QjgwODQA';

describe('POST and GET /webhooks/whatsapp', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  async function campaignWith(contacts: string[]) {
    return (await t.app.services.campaigns.create(t.workspaceId, { name: 'WhatsApp', contacts })).id;
  }
  async function register(campaignId: string, contact: string, messageId: string) {
    const r = await postEvents(t.url, t.key, {
      type: 'message.sent',
      campaign_id: campaignId,
      contact,
      message_id: messageId,
    });
    expect(r.status).toBe(200);
  }
  const stats = async (id: string) => (await restStats(t.url, t.key, id)).json;
  const parkedCount = async () => (await t.db.query(`SELECT count(*)::int AS n FROM parked_deliveries`))[0].n as number;

  describe('verification handshake', () => {
    const verify = (query: string) => fetch(`${t.url}/webhooks/whatsapp?${query}`);
    it('echoes hub.challenge for the right token', async () => {
      const r = await verify(`hub.mode=subscribe&hub.verify_token=${TEST_VERIFY_TOKEN}&hub.challenge=1158201444`);
      expect([r.status, await r.text()]).toEqual([200, '1158201444']);
    });
    it.each([
      ['a wrong token', `hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`],
      ['another mode', `hub.mode=unsubscribe&hub.verify_token=${TEST_VERIFY_TOKEN}&hub.challenge=1`],
      ['nothing', ''],
    ])('403 for %s', async (_, query) => {
      const r = await verify(query);
      expect(r.status).toBe(403);
      expect(await r.json()).toEqual({ error: 'forbidden', message: 'Webhook verification failed' });
    });
  });

  describe('signature and shape', () => {
    it('401 and nothing recorded for a missing, wrong or stale signature', async () => {
      const contact = phones(1)[0]!;
      const id = await campaignWith([contact]);
      await register(id, contact, 'wamid.sig');
      const before = await stats(id);
      const parked = await parkedCount();
      const body = webhookBody([
        { id: 'wamid.sig', status: 'read', timestamp: 1781517960 },
        { id: 'wamid.unregistered.sig', status: 'read', timestamp: 1781517960 },
      ]);
      const signed = signWhatsAppBody(body, TEST_APP_SECRET);
      for (const [sent, signature] of [
        [body, null],
        [body, 'sha256=' + '0'.repeat(64)],
        [body, signWhatsAppBody(body, 'another secret')],
        [body, 'garbage'],
        [body.replace('"read"', '"delivered"'), signed], // altered after signing
      ] as const) {
        const r = await postWebhook(t.url, sent, signature);
        expect(r.status).toBe(401);
        expect(r.json.error).toBe('unauthorized');
      }
      expect(await stats(id)).toEqual(before);
      expect(await parkedCount()).toBe(parked);
      expect((await postWebhook(t.url, body)).status).toBe(200);
      expect((await stats(id)).read_count).toBe(1);
    });

    it('400 for a signed body that is not the Cloud API shape, 413 past the bound', async () => {
      for (const body of ['{"object":"page","entry":[]}', 'not json', '[]']) {
        const r = await postWebhook(t.url, body);
        expect(r.status).toBe(400);
        expect(r.json.error).toBe('bad_request');
      }
      const huge = JSON.stringify({ object: 'whatsapp_business_account', entry: [], pad: 'x'.repeat(1024 * 1024) });
      expect((await postWebhook(t.url, huge)).status).toBe(413);
    });

    it('503 while no app secret is configured (Meta retries later)', async () => {
      const unconfigured = await startTestApp({ whatsappAppSecret: null });
      try {
        const r = await postWebhook(unconfigured.url, webhookBody([]));
        expect(r.status).toBe(503);
      } finally {
        await unconfigured.stop();
      }
    });
  });

  describe('recorded shapes move the numbers', () => {
    it('sent, delivered, read, failed, replies and taps', async () => {
      const [a, b] = phones(2);
      const id = await campaignWith([a!, b!]);
      await register(id, a!, WAMID);
      await register(id, b!, FAILED_WAMID);
      for (const name of [
        'status-sent',
        'status-delivered-read',
        'status-failed',
        'message-text-reply',
        'message-button',
      ]) {
        const r = await postWebhook(t.url, whatsappFixture(name));
        expect([name, r.status]).toEqual([name, 200]);
      }
      expect(await stats(id)).toMatchObject({
        sent_count: 2,
        delivered_count: 1,
        read_count: 1,
        clicked_count: 1,
        replied_count: 1,
        failed_count: 1,
        success_count: 1,
      });
      const reasons = await gql(
        t.url,
        t.key,
        `query($id: ID!) { campaignStats(campaignId: $id) { failureReasons { code title count } } }`,
        {
          id,
        },
      );
      expect(reasons.body.data.campaignStats.failureReasons).toEqual([
        { code: 131026, title: 'Message undeliverable', count: 1 },
      ]);
      // Redelivery of everything changes nothing.
      const before = await stats(id);
      for (const name of [
        'status-sent',
        'status-delivered-read',
        'status-failed',
        'message-text-reply',
        'message-button',
      ]) {
        await postWebhook(t.url, whatsappFixture(name));
      }
      expect(await stats(id)).toEqual(before);
    });

    it('interactive replies, images and reactions; unlinked items are accepted and ignored', async () => {
      const [a, b, c] = phones(3);
      const id = await campaignWith([a!, b!, c!]);
      await register(id, a!, 'wamid.BUTTON_REPLY_TARGET');
      await register(id, b!, 'wamid.LIST_REPLY_TARGET');
      await register(id, c!, 'wamid.IMAGE_REPLY_TARGET');
      expect((await postWebhook(t.url, whatsappFixture('message-interactive'))).status).toBe(200);
      expect((await postWebhook(t.url, whatsappFixture('message-image-reaction'))).status).toBe(200);
      const ignored = await postWebhook(t.url, whatsappFixture('ignored-items'));
      expect(ignored).toEqual({ status: 200, json: { status: 'success', facts: 0, ignored: 3 } });
      expect(await stats(id)).toMatchObject({ clicked_count: 2, replied_count: 1, read_count: 3, delivered_count: 3 });
    });
  });

  describe('order and registration', () => {
    it('parks statuses that come before their registration, and applies them once when it comes', async () => {
      const contact = phones(1)[0]!;
      const id = await campaignWith([contact]);
      const early = webhookBody(
        [
          { id: 'wamid.early', status: 'delivered', timestamp: 1781517905 },
          { id: 'wamid.early', status: 'read', timestamp: 1781517960 },
        ],
        [{ context: 'wamid.early', type: 'text', timestamp: 1781518000 }],
      );
      expect((await postWebhook(t.url, early)).status).toBe(200);
      expect((await postWebhook(t.url, early)).status).toBe(200); // Meta's retry: parked once
      expect(
        (
          await t.db.query(`SELECT count(*)::int AS n FROM parked_deliveries WHERE whatsapp_message_id = 'wamid.early'`)
        )[0].n,
      ).toBe(3);
      expect(await stats(id)).toMatchObject({ sent_count: 0, read_count: 0 });
      await register(id, contact, 'wamid.early');
      expect(await stats(id)).toMatchObject({ sent_count: 1, delivered_count: 1, read_count: 1, replied_count: 1 });
      expect(
        (
          await t.db.query(`SELECT count(*)::int AS n FROM parked_deliveries WHERE whatsapp_message_id = 'wamid.early'`)
        )[0].n,
      ).toBe(0);
      await register(id, contact, 'wamid.early'); // a resent registration applies nothing again
      const { stored, recounted } = await storedAndRecounted(t.db, id);
      expect(stored).toEqual(recounted);
    });

    it('biz_opaque_callback_data + recipient_id name the contact without a registration, and register the id', async () => {
      const contact = phones(1)[0]!;
      const id = await campaignWith([contact]);
      const body = webhookBody([
        { id: 'wamid.opaque', status: 'delivered', timestamp: 1781517905, recipient: contact, callback: id },
      ]);
      expect((await postWebhook(t.url, body)).status).toBe(200);
      expect(await stats(id)).toMatchObject({ sent_count: 1, delivered_count: 1 });
      const reply = webhookBody([], [{ context: 'wamid.opaque', type: 'button', timestamp: 1781518000 }]);
      expect((await postWebhook(t.url, reply)).status).toBe(200);
      expect(await stats(id)).toMatchObject({ clicked_count: 1, read_count: 1 });
    });

    it('delivered after failed, and read without delivered, land where the lattice says', async () => {
      const [a, b] = phones(2);
      const id = await campaignWith([a!, b!]);
      await register(id, a!, 'wamid.multi');
      await register(id, b!, 'wamid.skip');
      await postWebhook(
        t.url,
        webhookBody([
          {
            id: 'wamid.multi',
            status: 'failed',
            timestamp: 1781517902,
            error: { code: 131000, title: 'Something went wrong' },
          },
          { id: 'wamid.skip', status: 'read', timestamp: 1781517960 },
        ]),
      );
      expect(await stats(id)).toMatchObject({ failed_count: 1, delivered_count: 1, read_count: 1 });
      await postWebhook(t.url, webhookBody([{ id: 'wamid.multi', status: 'delivered', timestamp: 1781517990 }]));
      expect(await stats(id)).toMatchObject({ failed_count: 0, delivered_count: 2, success_count: 2 });
      const reasons = await t.app.services.campaigns.failureReasons([id]);
      expect(reasons[0]).toEqual([]);
    });

    it('prunes parked facts past the retention window', async () => {
      await postWebhook(t.url, webhookBody([{ id: 'wamid.never', status: 'sent', timestamp: 1781517900 }]));
      await t.db.query(
        `UPDATE parked_deliveries SET received_at = now() - interval '200 hours' WHERE whatsapp_message_id = 'wamid.never'`,
      );
      expect(await t.app.services.pipeline.pruneParked(168)).toBe(1);
      expect(
        (
          await t.db.query(`SELECT count(*)::int AS n FROM parked_deliveries WHERE whatsapp_message_id = 'wamid.never'`)
        )[0].n,
      ).toBe(0);
    });
  });
});
