import fc from 'fast-check';
import { CampaignsService } from '../../src/campaigns/campaigns.service';
import { DomainError } from '../../src/domain/errors';
import { DeliveryPipeline } from '../../src/ingest/delivery-pipeline';
import { createLogger } from '../../src/logger';
import { CampaignStore } from '../../src/store/campaign.store';
import { PostgresChangeFeed } from '../../src/store/change-feed';
import type { ContactRef } from '../../src/store/delivery.store';
import { DeliveryStore } from '../../src/store/delivery.store';
import { phones } from '../factories/campaign.factory';
import { openTestDatabase } from '../support/database';

const RUNS = Number(process.env.REGISTRATION_PROPERTY_RUNS ?? 25);

/** One request registering one message id to one contact, as the dispatcher path hands it over. */
interface Request {
  workspace: 0 | 1;
  id: number;
  contact: number;
}

describe('message-id registrations, against a model (property, real PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let pipeline: DeliveryPipeline;
  const workspaces: { id: string; contacts: ContactRef[] }[] = [];
  beforeAll(async () => {
    database = await openTestDatabase();
    const feed = new PostgresChangeFeed();
    pipeline = new DeliveryPipeline(database.db, new DeliveryStore(), createLogger('silent'), feed);
    const campaigns = new CampaignsService(new CampaignStore(database.db), feed);
    for (const name of ['one', 'two']) {
      const [{ id }] = await database.db.query(`INSERT INTO workspaces (name) VALUES ($1) RETURNING id`, [name]);
      const campaign = await campaigns.create(String(id), { name, contacts: phones(4) });
      const contacts: { id: string }[] = await database.db.query(
        `SELECT id FROM campaign_contacts WHERE campaign_id = $1 ORDER BY id`,
        [campaign.id],
      );
      workspaces.push({
        id: String(id),
        contacts: contacts.map((c) => ({ contactId: c.id, campaignId: campaign.id })),
      });
    }
  });
  afterAll(() => database.close());

  it('concurrent waves of registrations: each is 200 or 422 as a sequential model says, and the table is the model', async () => {
    let run = 0;
    const request = fc.record({
      workspace: fc.constantFrom(0 as const, 1 as const),
      id: fc.integer({ min: 0, max: 3 }),
      contact: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(request, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
        async (waves) => {
          const prefix = `wamid.p${++run}.`;
          // The model: per (workspace, id), the first contact wins; another contact later is refused.
          const model = new Map<string, number>();
          const expected: boolean[][] = waves.map((wave) =>
            wave.map((r) => {
              const key = `${r.workspace}|${r.id}`;
              const owner = model.get(key);
              if (owner === undefined) model.set(key, r.contact);
              return owner === undefined || owner === r.contact;
            }),
          );
          const actual: boolean[][] = [];
          for (const wave of waves) {
            // Submitted in one turn: the pipeline groups them into one transaction, then isolates a failure.
            const outcomes = await Promise.all(
              wave.map((r: Request) =>
                pipeline
                  .submit({
                    registrations: [
                      {
                        workspaceId: workspaces[r.workspace]!.id,
                        messageId: `${prefix}${r.id}`,
                        contact: workspaces[r.workspace]!.contacts[r.contact]!,
                        index: 0,
                      },
                    ],
                    facts: [],
                    whatsapp: [],
                  })
                  .then(
                    () => true,
                    (error: unknown) => {
                      if (error instanceof DomainError && error.code === 'UNPROCESSABLE') return false;
                      throw error;
                    },
                  ),
              ),
            );
            actual.push(outcomes);
          }
          expect(actual).toEqual(expected);
          const rows: { workspace_id: string; whatsapp_message_id: string; contact_id: string }[] =
            await database.db.query(
              `SELECT workspace_id::text, whatsapp_message_id, contact_id::text FROM contact_messages WHERE whatsapp_message_id LIKE $1`,
              [`${prefix}%`],
            );
          const stored = new Map(
            rows.map((row) => {
              const workspace = workspaces.findIndex((w) => w.id === row.workspace_id);
              const contact = workspaces[workspace]!.contacts.findIndex((c) => c.contactId === row.contact_id);
              return [`${workspace}|${row.whatsapp_message_id.slice(prefix.length)}`, contact];
            }),
          );
          expect(stored).toEqual(model);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
