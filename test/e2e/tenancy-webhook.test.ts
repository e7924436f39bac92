import { phones } from '../factories/campaign.factory';
import { gql, postEvents, restStats } from '../support/http';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';
import { TEST_PHONE_NUMBER_ID, postWebhook, webhookBody } from '../support/whatsapp';

// Two tenants, each with its own WhatsApp number, tried as a hostile tenant would: the same
// message ids, statuses through the other's number, callback data naming the other's campaigns.
const NUMBER_B = '200000000000002';
const UNBOUND = '999999999999999';

describe('tenancy on the webhook: numbers belong to workspaces, message ids are per workspace', () => {
  let t: TestApp;
  let b: { key: string; workspaceId: string };
  beforeAll(async () => {
    t = await startTestApp(); // workspace A: test-workspace, bound to TEST_PHONE_NUMBER_ID
    b = await t.newKey('tenant-b');
    await t.bindNumber(NUMBER_B, 'tenant-b');
  });
  afterAll(() => t.stop());

  const A = () => ({ key: t.key, workspaceId: t.workspaceId });
  async function campaignOf(tenant: { workspaceId: string }, contacts: string[]) {
    return (await t.app.services.campaigns.create(tenant.workspaceId, { name: 'tenancy', contacts })).id;
  }
  const register = (tenant: { key: string }, campaignId: string, contact: string, messageId: string) =>
    postEvents(t.url, tenant.key, { type: 'message.sent', campaign_id: campaignId, contact, message_id: messageId });
  const stats = async (tenant: { key: string }, id: string) => (await restStats(t.url, tenant.key, id)).json;
  const counts = (s: Record<string, number>) => ({
    sent: s.sent_count,
    delivered: s.delivered_count,
    read: s.read_count,
    clicked: s.clicked_count,
    replied: s.replied_count,
    failed: s.failed_count,
  });
  const registrations = async (messageId: string) =>
    (
      await t.db.query(
        `SELECT workspace_id::text AS workspace, campaign_id FROM contact_messages WHERE whatsapp_message_id = $1 ORDER BY 1`,
        [messageId],
      )
    ).map((r: { workspace: string; campaign_id: string }) => [r.workspace, r.campaign_id]);
  const ignoredUnknownNumbers = async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) => l.startsWith('csg_webhook_items_ignored_total{reason="unknown_phone_number"}'));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('the same message id in two workspaces: each registration is 200, each status moves only its own workspace', async () => {
    const [pa] = phones(1);
    const [pb] = phones(1);
    const ca = await campaignOf(A(), [pa!]);
    const cb = await campaignOf(b, [pb!]);
    const first = await register(A(), ca, pa!, 'wamid.shared');
    const second = await register(b, cb, pb!, 'wamid.shared');
    // Registering an id another workspace holds answers exactly as a fresh id: nothing leaks.
    expect([first.status, first.json]).toEqual([200, { status: 'success', accepted: 1 }]);
    expect([second.status, second.json]).toEqual([200, { status: 'success', accepted: 1 }]);
    expect(await registrations('wamid.shared')).toEqual(
      [
        [A().workspaceId, ca],
        [b.workspaceId, cb],
      ].sort(),
    );

    const read = await postWebhook(t.url, webhookBody([{ id: 'wamid.shared', status: 'read', timestamp: 1781517960 }]));
    expect(read).toEqual({ status: 200, json: { status: 'success', facts: 1, ignored: 0 } });
    expect(counts(await stats(A(), ca))).toMatchObject({ read: 1 });
    expect(counts(await stats(b, cb))).toEqual({ sent: 1, delivered: 0, read: 0, clicked: 0, replied: 0, failed: 0 });

    const failed = await postWebhook(
      t.url,
      webhookBody(
        [{ id: 'wamid.shared', status: 'failed', timestamp: 1781517961, error: { code: 131026, title: 'x' } }],
        [],
        NUMBER_B,
      ),
    );
    expect(failed.status).toBe(200);
    expect(counts(await stats(b, cb))).toMatchObject({ failed: 1 });
    expect(counts(await stats(A(), ca))).toMatchObject({ read: 1, failed: 0 });
  });

  it("a status through A's number whose callback data names B's campaign and contact changes nothing in B", async () => {
    const [pb] = phones(1);
    const cb = await campaignOf(b, [pb!]);
    const before = await stats(b, cb);
    const r = await postWebhook(
      t.url,
      webhookBody([
        { id: 'wamid.cross-callback', status: 'read', timestamp: 1781517960, recipient: pb!, callback: cb },
      ]),
    );
    expect(r.status).toBe(200);
    expect(await stats(b, cb)).toEqual(before);
    expect(await registrations('wamid.cross-callback')).toEqual([]); // not registered in B, nor anywhere
    // It waits in A (an id A never registered), where B's registration of the same id cannot claim it.
    const parked = await t.db.query(
      `SELECT workspace_id::text AS w FROM parked_deliveries WHERE whatsapp_message_id = 'wamid.cross-callback'`,
    );
    expect(parked).toEqual([{ w: A().workspaceId }]);
    expect((await register(b, cb, pb!, 'wamid.cross-callback')).status).toBe(200);
    expect(counts(await stats(b, cb))).toEqual({ sent: 1, delivered: 0, read: 0, clicked: 0, replied: 0, failed: 0 });
    expect(
      await t.db.query(`SELECT 1 FROM parked_deliveries WHERE whatsapp_message_id = 'wamid.cross-callback'`),
    ).toHaveLength(1);
  });

  it("callback data through B's own number names B's contact at once and registers the id in B only", async () => {
    const [pb] = phones(1);
    const cb = await campaignOf(b, [pb!]);
    const r = await postWebhook(
      t.url,
      webhookBody(
        [{ id: 'wamid.own-callback', status: 'delivered', timestamp: 1781517960, recipient: pb!, callback: cb }],
        [],
        NUMBER_B,
      ),
    );
    expect(r.status).toBe(200);
    expect(counts(await stats(b, cb))).toMatchObject({ delivered: 1 });
    expect(await registrations('wamid.own-callback')).toEqual([[b.workspaceId, cb]]);
  });

  it("a reply through B's number to an id only A registered is parked in B and moves nothing in A", async () => {
    const [pa] = phones(1);
    const ca = await campaignOf(A(), [pa!]);
    expect((await register(A(), ca, pa!, 'wamid.a-only')).status).toBe(200);
    const r = await postWebhook(
      t.url,
      webhookBody([], [{ context: 'wamid.a-only', type: 'button', timestamp: 1781518000 }], NUMBER_B),
    );
    expect(r.json).toEqual({ status: 'success', facts: 1, ignored: 0 });
    expect(counts(await stats(A(), ca))).toMatchObject({ clicked: 0, replied: 0 });
    const parked = await t.db.query(
      `SELECT workspace_id::text AS w FROM parked_deliveries WHERE whatsapp_message_id = 'wamid.a-only'`,
    );
    expect(parked).toEqual([{ w: b.workspaceId }]);
  });

  it('statuses parked in one workspace are applied by that workspace’s registration only', async () => {
    const [pa] = phones(1);
    const [pb] = phones(1);
    const ca = await campaignOf(A(), [pa!]);
    const cb = await campaignOf(b, [pb!]);
    await postWebhook(t.url, webhookBody([{ id: 'wamid.early', status: 'read', timestamp: 1781517960 }]));
    expect((await register(b, cb, pb!, 'wamid.early')).status).toBe(200);
    expect(counts(await stats(b, cb))).toMatchObject({ read: 0 });
    expect((await register(A(), ca, pa!, 'wamid.early')).status).toBe(200);
    expect(counts(await stats(A(), ca))).toMatchObject({ read: 1 });
    expect(await t.db.query(`SELECT 1 FROM parked_deliveries WHERE whatsapp_message_id = 'wamid.early'`)).toEqual([]);
  });

  it('a change from an unbound number, or naming none, is 200, recorded nowhere, and counted', async () => {
    const [pa] = phones(1);
    const ca = await campaignOf(A(), [pa!]);
    expect((await register(A(), ca, pa!, 'wamid.unbound')).status).toBe(200);
    const before = await stats(A(), ca);
    const counted = await ignoredUnknownNumbers();
    const parked = (await t.db.query(`SELECT count(*)::int AS n FROM parked_deliveries`))[0].n;
    for (const number of [UNBOUND, null]) {
      const r = await postWebhook(
        t.url,
        webhookBody(
          [
            { id: 'wamid.unbound', status: 'read', timestamp: 1781517960 },
            { id: 'wamid.never-registered', status: 'sent', timestamp: 1781517960 },
          ],
          [{ context: 'wamid.unbound', type: 'text', timestamp: 1781518000 }],
          number,
        ),
      );
      expect(r).toEqual({ status: 200, json: { status: 'success', facts: 0, ignored: 3 } });
    }
    expect(await stats(A(), ca)).toEqual(before);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM parked_deliveries`))[0].n).toBe(parked);
    expect(await ignoredUnknownNumbers()).toBe(counted + 6);
  });

  it('one body with changes from both numbers: each change is read in its own workspace', async () => {
    const [pa] = phones(1);
    const [pb] = phones(1);
    const ca = await campaignOf(A(), [pa!]);
    const cb = await campaignOf(b, [pb!]);
    await register(A(), ca, pa!, 'wamid.mixed');
    await register(b, cb, pb!, 'wamid.mixed');
    const change = (number: string, status: string) => ({
      field: 'messages',
      value: {
        metadata: { phone_number_id: number },
        statuses: [{ id: 'wamid.mixed', status, timestamp: '1781517960', recipient_id: '16505550000' }],
      },
    });
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [change(TEST_PHONE_NUMBER_ID, 'delivered'), change(NUMBER_B, 'read'), change(UNBOUND, 'failed')],
        },
      ],
    });
    expect((await postWebhook(t.url, body)).json).toEqual({ status: 'success', facts: 2, ignored: 1 });
    expect(counts(await stats(A(), ca))).toMatchObject({ delivered: 1, read: 0, failed: 0 });
    expect(counts(await stats(b, cb))).toMatchObject({ delivered: 1, read: 1, failed: 0 });
  });

  it('inside one workspace, an id registered to another contact is a 422 naming the event', async () => {
    const contacts = phones(2);
    const ca = await campaignOf(A(), contacts);
    expect((await register(A(), ca, contacts[0]!, 'wamid.taken')).status).toBe(200);
    const r = await postEvents(t.url, t.key, {
      events: [
        { id: 'e1', type: 'message.delivered', campaign_id: ca, contact: contacts[0] },
        { id: 'e2', type: 'message.sent', campaign_id: ca, contact: contacts[1], message_id: 'wamid.taken' },
      ],
    });
    expect(r.status).toBe(422);
    expect(r.json.details).toEqual([{ index: 1, reason: 'message_id wamid.taken is registered to another contact' }]);
    expect(await registrations('wamid.taken')).toEqual([[A().workspaceId, ca]]);
  });

  it('a message_id alone that only another workspace registered is answered as one nobody registered', async () => {
    const [pb] = phones(1);
    const cb = await campaignOf(b, [pb!]);
    await register(b, cb, pb!, 'wamid.b-held');
    const named = await postEvents(t.url, t.key, { type: 'message.read', message_id: 'wamid.b-held' });
    const nobody = await postEvents(t.url, t.key, { type: 'message.read', message_id: 'wamid.nobodys' });
    expect(named.status).toBe(422);
    expect(JSON.stringify(named.json).replace('b-held', 'X')).toBe(JSON.stringify(nobody.json).replace('nobodys', 'X'));
  });

  it('whatsAppNumbers lists the key’s own numbers only', async () => {
    const query = '{ whatsAppNumbers { phoneNumberId createdAt } }';
    const mine = await gql(t.url, t.key, query);
    expect(mine.body.data!.whatsAppNumbers).toEqual([
      { phoneNumberId: TEST_PHONE_NUMBER_ID, createdAt: expect.any(String) },
    ]);
    const theirs = await gql(t.url, b.key, query);
    expect(theirs.body.data!.whatsAppNumbers.map((n: { phoneNumberId: string }) => n.phoneNumberId)).toEqual([
      NUMBER_B,
    ]);
    expect((await gql(t.url, null, query)).body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('concurrent registrations of one id inside one workspace', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('30 pairs racing: exactly one 200 per pair, the other 422 naming its event, and the stored registration is the winner’s', async () => {
    const contacts = phones(60);
    const campaignId = (await t.app.services.campaigns.create(t.workspaceId, { name: 'race', contacts })).id;
    const pairs = Array.from({ length: 30 }, (_, i) => ({
      id: `wamid.race.${i}`,
      x: contacts[2 * i]!,
      y: contacts[2 * i + 1]!,
    }));
    const send = (messageId: string, contact: string) =>
      postEvents(t.url, t.key, { type: 'message.sent', campaign_id: campaignId, contact, message_id: messageId });
    const answers = await Promise.all(
      pairs.map(async (p) => {
        const [x, y] = await Promise.all([send(p.id, p.x), send(p.id, p.y)]);
        return { p, x, y };
      }),
    );
    for (const { p, x, y } of answers) {
      expect([x.status, y.status].sort()).toEqual([200, 422]);
      const loser = x.status === 422 ? x : y;
      expect(loser.json.details).toEqual([{ index: 0, reason: `message_id ${p.id} is registered to another contact` }]);
      const winner = x.status === 200 ? p.x : p.y;
      const [stored] = await t.db.query(
        `SELECT c.phone FROM contact_messages m JOIN campaign_contacts c ON c.id = m.contact_id
         WHERE m.workspace_id = $1 AND m.whatsapp_message_id = $2`,
        [t.workspaceId, p.id],
      );
      expect(stored.phone).toBe(winner);
    }
    // The winners' SENT counted, the losers' not.
    expect((await restStats(t.url, t.key, campaignId)).json.sent_count).toBe(30);
  });
});
