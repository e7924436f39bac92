import fc from 'fast-check';
import { CampaignsService } from '../../src/campaigns/campaigns.service';
import type { EvidenceKind } from '../../src/domain/delivery-lattice';
import { Evidence } from '../../src/domain/delivery-lattice';
import type { DeliveryWork } from '../../src/ingest/delivery-pipeline';
import { DeliveryPipeline } from '../../src/ingest/delivery-pipeline';
import { createLogger } from '../../src/logger';
import { CampaignStore } from '../../src/store/campaign.store';
import { PostgresChangeFeed } from '../../src/store/change-feed';
import type { ContactRef } from '../../src/store/delivery.store';
import { DeliveryStore } from '../../src/store/delivery.store';
import { phones } from '../factories/campaign.factory';
import { openTestDatabase } from '../support/database';
import { storedAndRecounted } from '../support/recount';

const RUNS = Number(process.env.TENANCY_PROPERTY_RUNS ?? 15);
const CONTACTS = 3;

type Item =
  | { kind: 'register'; workspace: 0 | 1; contact: number }
  | { kind: 'status'; workspace: 0 | 1; contact: number; evidence: EvidenceKind; offset: number };

/**
 * Two workspaces use the same WhatsApp message ids (`wamid.<run>.<contact>`) for their own
 * contacts; statuses come through each workspace's number, registrations from each dispatcher, in
 * any order and in concurrent waves. The model: each workspace's contacts end with exactly the
 * evidence its own statuses brought, as if the other workspace did not exist.
 */
describe('tenancy under any interleaving (property, real PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let pipeline: DeliveryPipeline;
  let campaigns: CampaignsService;
  const workspaces: string[] = [];
  beforeAll(async () => {
    database = await openTestDatabase();
    const feed = new PostgresChangeFeed();
    pipeline = new DeliveryPipeline(database.db, new DeliveryStore(), createLogger('silent'), feed);
    campaigns = new CampaignsService(new CampaignStore(database.db), feed);
    for (const name of ['left', 'right']) {
      const [{ id }] = await database.db.query(`INSERT INTO workspaces (name) VALUES ($1) RETURNING id`, [name]);
      workspaces.push(String(id));
    }
  });
  afterAll(() => database.close());

  it('each workspace ends as its own statuses say; the other workspace changes nothing', async () => {
    let run = 0;
    const workspace = fc.constantFrom(0 as const, 1 as const);
    const contact = fc.integer({ min: 0, max: CONTACTS - 1 });
    const item: fc.Arbitrary<Item> = fc.oneof(
      fc.record({ kind: fc.constant('register' as const), workspace, contact }),
      fc.record({
        kind: fc.constant('status' as const),
        workspace,
        contact,
        evidence: fc.constantFrom<EvidenceKind>('SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED', 'FAILED'),
        offset: fc.integer({ min: 0, max: 600 }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(item, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 6 }),
        async (waves) => {
          const runId = ++run;
          const refs: ContactRef[][] = [];
          for (const w of workspaces) {
            const campaign = await campaigns.create(w, { name: `run ${runId}`, contacts: phones(CONTACTS) });
            const rows: { id: string }[] = await database.db.query(
              `SELECT id FROM campaign_contacts WHERE campaign_id = $1 ORDER BY id`,
              [campaign.id],
            );
            refs.push(rows.map((r) => ({ contactId: r.id, campaignId: campaign.id })));
          }
          const id = (c: number) => `wamid.t${runId}.${c}`;
          const work = (i: Item): DeliveryWork =>
            i.kind === 'register'
              ? {
                  registrations: [
                    {
                      workspaceId: workspaces[i.workspace]!,
                      messageId: id(i.contact),
                      contact: refs[i.workspace]![i.contact]!,
                    },
                  ],
                  facts: [],
                  whatsapp: [],
                }
              : {
                  registrations: [],
                  facts: [],
                  whatsapp: [
                    {
                      workspaceId: workspaces[i.workspace]!,
                      messageId: id(i.contact),
                      fact: { evidence: i.evidence, at: new Date((1781517900 + i.offset) * 1000) },
                      campaignId: null,
                      recipient: null,
                      phoneNumberId: null,
                    },
                  ],
                };
          // Every contact is registered in the end, so every status reaches its contact.
          const closing: Item[] = [0, 1].flatMap((w) =>
            Array.from({ length: CONTACTS }, (_, c) => ({
              kind: 'register' as const,
              workspace: w as 0 | 1,
              contact: c,
            })),
          );
          for (const wave of [...waves, closing]) await Promise.all(wave.map((i) => pipeline.submit(work(i))));

          for (const w of [0, 1] as const) {
            const expected = Array.from({ length: CONTACTS }, (_, c) =>
              waves
                .flat()
                .filter((i) => i.kind === 'status' && i.workspace === w && i.contact === c)
                .reduce((flags, i) => flags | Evidence[(i as Extract<Item, { kind: 'status' }>).evidence], 0),
            );
            const rows: { flags: number }[] = await database.db.query(
              `SELECT flags FROM campaign_contacts WHERE campaign_id = $1 ORDER BY id`,
              [refs[w]![0]!.campaignId],
            );
            expect(rows.map((r) => r.flags)).toEqual(expected);
            const { stored, recounted } = await storedAndRecounted(database.db, refs[w]![0]!.campaignId);
            expect(stored).toEqual(recounted);
          }
          expect(
            await database.db.query(`SELECT 1 FROM parked_deliveries WHERE whatsapp_message_id LIKE $1`, [
              `wamid.t${runId}.%`,
            ]),
          ).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
