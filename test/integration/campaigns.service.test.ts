import { ApiKeysService } from '../../src/auth/api-keys.service';
import { CampaignsService, encodeCursor } from '../../src/campaigns/campaigns.service';
import { DomainError } from '../../src/domain/errors';
import { CampaignStore } from '../../src/store/campaign.store';
import { CampaignCountersEntity, CampaignEntity } from '../../src/store/entities';
import { WorkspaceStore } from '../../src/store/workspace.store';
import { createCampaign, phones } from '../factories/campaign.factory';
import { openTestDatabase } from '../support/database';

async function refusal(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return error as DomainError;
  }
  throw new Error('expected a refusal');
}

describe('campaigns on real PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let campaigns: CampaignsService;
  let workspaceId: string;
  let otherWorkspaceId: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    const keys = new ApiKeysService(new WorkspaceStore(database.db));
    workspaceId = (await keys.create('one')).workspaceId;
    otherWorkspaceId = (await keys.create('two')).workspaceId;
    campaigns = new CampaignsService(new CampaignStore(database.db));
  });
  afterAll(() => database.close());

  it('creates 100,000 contacts in one call, folding duplicates', async () => {
    const contacts = phones(100_000);
    const record = await campaigns.create(workspaceId, {
      name: 'Big',
      contacts: [...contacts.slice(0, 99_990), ...contacts.slice(0, 10)],
    });
    expect(record.counters.totalContacts).toBe(99_990);
    const [{ n }] = await database.db.query(`SELECT count(*)::int AS n FROM campaign_contacts WHERE campaign_id = $1`, [
      record.id,
    ]);
    expect(n).toBe(99_990);
    const stats = await campaigns.stats(workspaceId, record.id);
    expect(stats).toMatchObject({ totalContacts: 99_990, pendingCount: 99_990, sentCount: 0, campaignStatus: 'draft' });
  });

  it('refuses more than 100,000 contacts, and non-E.164 numbers by name, creating nothing', async () => {
    const before = await database.db.query(`SELECT count(*)::int AS n FROM campaigns`);
    expect((await refusal(campaigns.create(workspaceId, { name: 'x', contacts: phones(100_001) }))).code).toBe(
      'BAD_USER_INPUT',
    );
    const error = await refusal(
      campaigns.create(workspaceId, { name: 'x', contacts: ['+14155550123', '0800 FLOWERS'] }),
    );
    expect(error.message).toContain('"0800 FLOWERS"');
    expect(error.message).not.toContain('+14155550123');
    expect(await database.db.query(`SELECT count(*)::int AS n FROM campaigns`)).toEqual(before);
  });

  it('adds contacts, skipping those already in, until the campaign ends', async () => {
    const contacts = phones(5);
    const record = await createCampaign(campaigns, workspaceId, { contacts: contacts.slice(0, 3) });
    const added = await campaigns.addContacts(workspaceId, record.id, contacts);
    expect(added.counters.totalContacts).toBe(5);
    await campaigns.move(workspaceId, record.id, 'cancelled');
    const error = await refusal(campaigns.addContacts(workspaceId, record.id, phones(1)));
    expect(error.message).toBe('Cannot add contacts to a cancelled campaign');
    expect((await campaigns.record(workspaceId, record.id)).counters.totalContacts).toBe(5);
  });

  it('moves through the lifecycle, setting times; refused moves change nothing', async () => {
    const record = await createCampaign(campaigns, workspaceId);
    const at = new Date('2030-01-01T09:00:00Z');
    const scheduled = await campaigns.move(workspaceId, record.id, 'scheduled', { at });
    expect(scheduled).toMatchObject({ status: 'scheduled', scheduledAt: at });
    const refused = await refusal(campaigns.move(workspaceId, record.id, 'completed'));
    expect(refused).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'Cannot move a campaign from scheduled to completed',
    });
    expect(await campaigns.record(workspaceId, record.id)).toEqual(scheduled);
    const running = await campaigns.move(workspaceId, record.id, 'running');
    expect(running.startedAt).toBeInstanceOf(Date);
    const failed = await campaigns.move(workspaceId, record.id, 'failed', { reason: 'provider outage' });
    expect(failed.completedAt).toBeInstanceOf(Date);
    expect((await refusal(campaigns.move(workspaceId, record.id, 'running'))).code).toBe('BAD_USER_INPUT');
  });

  it("another workspace's campaign is answered exactly as a missing one", async () => {
    const record = await createCampaign(campaigns, workspaceId);
    const theirs = await refusal(campaigns.stats(otherWorkspaceId, record.id));
    const missing = await refusal(campaigns.stats(otherWorkspaceId, 'aaaaaaaaaaaaaaaaaaaaaaaa'));
    expect([theirs.code, theirs.message]).toEqual([missing.code, missing.message]);
    expect(await campaigns.findRecord(otherWorkspaceId, record.id)).toBeNull();
    expect((await refusal(campaigns.move(otherWorkspaceId, record.id, 'running'))).code).toBe('NOT_FOUND');
    expect((await refusal(campaigns.addContacts(otherWorkspaceId, record.id, phones(1)))).code).toBe('NOT_FOUND');
  });

  it('reads give TypeORM entities: the hot stats read hydrates what a repository loads', async () => {
    const ws = (await new ApiKeysService(new WorkspaceStore(database.db)).create('entities')).workspaceId;
    const made = await createCampaign(campaigns, ws, { count: 3 });
    await campaigns.move(ws, made.id, 'running');
    const hot = await campaigns.record(ws, made.id);
    const [cold] = (await campaigns.page(ws, { first: 1 })).records;
    const loaded = await database.db
      .getRepository(CampaignEntity)
      .findOneOrFail({ where: { id: made.id }, relations: { counters: true } });
    expect(hot).toBeInstanceOf(CampaignEntity);
    expect(hot.counters).toBeInstanceOf(CampaignCountersEntity);
    expect(hot).toStrictEqual(cold);
    expect(hot).toStrictEqual(loaded);
    expect(hot).toMatchObject({ status: 'running', counters: { totalContacts: 3, touched: 0 } });
  });

  it('pages newest first with stable cursors, filtered by status', async () => {
    const keys = new ApiKeysService(new WorkspaceStore(database.db));
    const ws = (await keys.create('paging')).workspaceId;
    const made = [];
    for (let i = 0; i < 7; i++) made.push(await createCampaign(campaigns, ws, { name: `p${i}`, count: 1 }));
    await campaigns.move(ws, made[2]!.id, 'running');
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: Awaited<ReturnType<CampaignsService['page']>> = await campaigns.page(ws, { first: 3, after });
      seen.push(...page.records.map((r) => r.name));
      if (!page.hasNextPage) break;
      after = encodeCursor(page.records.at(-1)!);
    }
    expect(seen).toEqual(['p6', 'p5', 'p4', 'p3', 'p2', 'p1', 'p0']);
    const running = await campaigns.page(ws, { first: 10, status: 'running' });
    expect(running.records.map((r) => r.name)).toEqual(['p2']);
    expect((await refusal(campaigns.page(ws, { first: 101 }))).code).toBe('BAD_USER_INPUT');
    expect((await refusal(campaigns.page(ws, { first: 1, after: 'garbage' }))).message).toBe('Invalid cursor');
  });
});
