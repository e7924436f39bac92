import fc from 'fast-check';
import { phones } from '../factories/campaign.factory';
import { postEvents, restStats } from '../support/http';
import type { ModelFact } from '../support/lattice-model';
import { contactsOf, countCampaign } from '../support/lattice-model';
import { storedAndRecounted, storedCountersOf } from '../support/recount';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';
import type { InboundSpec, StatusSpec } from '../support/whatsapp';
import { postWebhook, webhookBody } from '../support/whatsapp';

const RUNS = Number(process.env.WEBHOOK_PROPERTY_RUNS ?? 12);
const BASE = 1781517900;

type Item =
  | { kind: 'status'; contact: number; status: 'sent' | 'delivered' | 'read' | 'failed'; offset: number; code: number }
  | { kind: 'inbound'; contact: number; type: 'text' | 'button' | 'interactive' | 'image'; offset: number }
  | { kind: 'register'; contact: number; offset: number };

const KIND = { sent: 'SENT', delivered: 'DELIVERED', read: 'READ', failed: 'FAILED' } as const;

/** What the contract says an item proves: a quick-reply button tap is a click, any other answer a reply. */
function factOf(item: Item): ModelFact {
  const at = new Date((BASE + item.offset) * 1000);
  switch (item.kind) {
    case 'status':
      return item.status === 'failed'
        ? { kind: 'FAILED', at, error: { code: item.code, title: `e${item.code}` } }
        : { kind: KIND[item.status], at };
    case 'inbound':
      return { kind: item.type === 'button' || item.type === 'interactive' ? 'CLICKED' : 'REPLIED', at };
    case 'register':
      return { kind: 'SENT', at };
  }
}

describe('webhook order does not matter (property, through HTTP)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('shuffles with duplicates, statuses before registrations, give the counts of a model', async () => {
    const CONTACTS = 6;
    const itemArb: fc.Arbitrary<Item> = fc.oneof(
      fc.record({
        kind: fc.constant('status' as const),
        contact: fc.integer({ min: 0, max: CONTACTS - 1 }),
        status: fc.constantFrom('sent' as const, 'delivered' as const, 'read' as const, 'failed' as const),
        offset: fc.integer({ min: 0, max: 600 }),
        code: fc.constantFrom(131026, 131049),
      }),
      fc.record({
        kind: fc.constant('inbound' as const),
        contact: fc.integer({ min: 0, max: CONTACTS - 1 }),
        type: fc.constantFrom('text' as const, 'button' as const, 'interactive' as const, 'image' as const),
        offset: fc.integer({ min: 0, max: 600 }),
      }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(itemArb, { minLength: 1, maxLength: 30 }),
        fc.subarray([...Array(CONTACTS).keys()]), // contacts whose registration ever comes
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (items, registered, seed) => {
          run++;
          const contacts = phones(CONTACTS);
          const wamid = (i: number) => `wamid.prop.${run}.${seed}.${i}`;
          const campaignId = (await t.app.services.campaigns.create(t.workspaceId, { name: `p${run}`, contacts })).id;
          const registrations: Item[] = registered.map((contact) => ({ kind: 'register', contact, offset: 0 }));
          // Everything once, a random part again, in a random order.
          const stream = fc.sample(
            fc.shuffledSubarray([...items, ...registrations, ...items.filter((_, i) => (i + seed) % 3 === 0)], {
              minLength: items.length + registrations.length,
            }),
            { numRuns: 1, seed },
          )[0]!;
          // Always deliver everything at least once: append what the shuffle dropped.
          for (const item of [...items, ...registrations]) if (!stream.includes(item)) stream.push(item);

          for (let i = 0; i < stream.length; i += 3) {
            await Promise.all(
              stream.slice(i, i + 3).map(async (item) => {
                if (item.kind === 'register') {
                  const r = await postEvents(t.url, t.key, {
                    type: 'message.sent',
                    campaign_id: campaignId,
                    contact: contacts[item.contact],
                    message_id: wamid(item.contact),
                    timestamp: new Date((BASE + item.offset) * 1000).toISOString(),
                  });
                  expect(r.status).toBe(200);
                  return;
                }
                const body =
                  item.kind === 'status'
                    ? webhookBody([
                        {
                          id: wamid(item.contact),
                          status: item.status,
                          timestamp: BASE + item.offset,
                          ...(item.status === 'failed' ? { error: { code: item.code, title: `e${item.code}` } } : {}),
                        } satisfies StatusSpec,
                      ])
                    : webhookBody(
                        [],
                        [
                          {
                            context: wamid(item.contact),
                            type: item.type,
                            timestamp: BASE + item.offset,
                          } satisfies InboundSpec,
                        ],
                      );
                expect((await postWebhook(t.url, body)).status).toBe(200);
              }),
            );
          }

          // Never registered: its facts stay parked and it stays pending.
          const applied = [...items, ...registrations].filter((item) => registered.includes(item.contact));
          const expected = countCampaign(
            contactsOf(applied.map((item) => [item.contact, factOf(item)] as const)).values(),
            CONTACTS,
          );
          const rest = (await restStats(t.url, t.key, campaignId)).json;
          expect({
            total: rest.total_contacts,
            sent: rest.sent_count,
            delivered: rest.delivered_count,
            read: rest.read_count,
            clicked: rest.clicked_count,
            replied: rest.replied_count,
            failed: rest.failed_count,
          }).toEqual({
            total: expected.total,
            sent: expected.sent,
            delivered: expected.delivered,
            read: expected.read,
            clicked: expected.clicked,
            replied: expected.replied,
            failed: expected.failed,
          });
          const { stored, recounted } = await storedAndRecounted(t.db, campaignId);
          expect(stored).toEqual(recounted);
          expect(stored).toEqual(storedCountersOf(expected));
          const [{ n }] = await t.db.query(
            `SELECT count(*)::int AS n FROM parked_deliveries WHERE whatsapp_message_id LIKE $1`,
            [`wamid.prop.${run}.${seed}.%`],
          );
          const unregisteredFacts = new Set(
            items
              .filter((item) => !registered.includes(item.contact))
              .map((item) => {
                const f = factOf(item);
                return `${item.contact}|${f.kind}|${f.at.getTime()}|${f.error?.code ?? ''}`;
              }),
          );
          expect(n).toBe(unregisteredFacts.size);
          // Last, so that a miss here says success alone is off: sent and not failed (docs/lattice.md).
          expect(rest.success_count).toBe(expected.success);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('8 concurrent senders on one campaign end with counters equal to a recount and a model', async () => {
    const contacts = phones(400);
    const campaignId = (await t.app.services.campaigns.create(t.workspaceId, { name: 'senders', contacts })).id;
    const events = contacts.map((contact, i) => ({
      type: 'message.sent',
      campaign_id: campaignId,
      contact,
      message_id: `wamid.senders.${i}`,
      timestamp: new Date(BASE * 1000).toISOString(),
    }));
    expect((await postEvents(t.url, t.key, { events })).status).toBe(200);
    const statuses = fc.sample(
      fc.record({
        contact: fc.integer({ min: 0, max: 399 }),
        status: fc.constantFrom('delivered', 'read', 'failed'),
        offset: fc.integer({ min: 1, max: 900 }),
      }),
      { numRuns: 8 * 40 * 20, seed: 8 },
    );
    await Promise.all(
      Array.from({ length: 8 }, async (_, sender) => {
        for (let r = 0; r < 40; r++) {
          const slice = statuses.slice((sender * 40 + r) * 20, (sender * 40 + r + 1) * 20);
          const body = webhookBody(
            slice.map((s) => ({
              id: `wamid.senders.${s.contact}`,
              status: s.status,
              timestamp: BASE + s.offset,
              ...(s.status === 'failed' ? { error: { code: 131026, title: 'Message undeliverable' } } : {}),
            })),
          );
          expect((await postWebhook(t.url, body)).status).toBe(200);
        }
      }),
    );
    const facts: (readonly [number, ModelFact])[] = contacts.map((_, i) => [
      i,
      { kind: 'SENT', at: new Date(BASE * 1000) },
    ]);
    for (const s of statuses) {
      const at = new Date((BASE + s.offset) * 1000);
      facts.push([
        s.contact,
        s.status === 'failed'
          ? { kind: 'FAILED', at, error: { code: 131026, title: 'Message undeliverable' } }
          : { kind: s.status === 'read' ? 'READ' : 'DELIVERED', at },
      ]);
    }
    const { stored, recounted, storedReasons, recountedReasons, failureReasonTotal } = await storedAndRecounted(
      t.db,
      campaignId,
    );
    expect(stored).toEqual(recounted);
    expect(storedReasons).toEqual(recountedReasons);
    expect(stored).toEqual(storedCountersOf(countCampaign(contactsOf(facts).values(), 400)));
    expect(failureReasonTotal).toBe(stored.failed);
    expect(t.app.services.pipeline.totals.batches).toBeGreaterThan(0);
  });
});
