import { phones } from '../factories/campaign.factory';
import { gql, postEvents } from '../support/http';
import type { Recorder as RecorderType } from '../support/live';
import { Recorder, STATS_SUBSCRIPTION, liveClient } from '../support/live';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

// docs/lifecycle.md: the first accepted event for a draft or scheduled campaign starts it.
describe('auto-start on the first accepted event', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  const create = async (contacts: string[], scheduledAt: Date | null = null) =>
    (await t.app.services.campaigns.create(t.workspaceId, { name: 'auto', contacts, scheduledAt })).id;
  const record = (id: string) => t.app.services.campaigns.record(t.workspaceId, id);

  it('moves a draft to running, started_at the earliest event time of the batch', async () => {
    const contacts = phones(3);
    const id = await create(contacts);
    const answer = await postEvents(t.url, t.key, {
      events: [
        { type: 'message.delivered', campaign_id: id, contact: contacts[0], timestamp: '2026-06-15T10:07:00Z' },
        { type: 'message.sent', campaign_id: id, contact: contacts[1], timestamp: '2026-06-15T10:05:00Z' },
        { type: 'message.sent', campaign_id: id, contact: contacts[2], timestamp: '2026-06-15T10:06:00Z' },
      ],
    });
    expect(answer.status).toBe(200);
    const started = await record(id);
    expect(started.status).toBe('running');
    expect(started.startedAt?.toISOString()).toBe('2026-06-15T10:05:00.000Z');
    // a later, earlier-dated event does not move started_at again
    await postEvents(t.url, t.key, {
      type: 'message.read',
      campaign_id: id,
      contact: contacts[0],
      timestamp: '2026-06-15T09:00:00Z',
    });
    expect((await record(id)).startedAt?.toISOString()).toBe('2026-06-15T10:05:00.000Z');
  });

  it('moves a scheduled campaign to running, keeping scheduled_at', async () => {
    const contacts = phones(2);
    const at = new Date('2030-01-01T00:00:00Z');
    const id = await create(contacts, at);
    expect((await record(id)).status).toBe('scheduled');
    await postEvents(t.url, t.key, {
      type: 'message.failed',
      campaign_id: id,
      contact: contacts[0],
      timestamp: '2026-07-01T08:00:00Z',
      error: { code: 131026, title: 'Message undeliverable' },
    });
    const started = await record(id);
    expect(started).toMatchObject({ status: 'running', scheduledAt: at });
    expect(started.startedAt?.toISOString()).toBe('2026-07-01T08:00:00.000Z');
  });

  it('leaves an ended campaign ended, and its late events still count', async () => {
    for (const end of ['completed', 'cancelled', 'failed'] as const) {
      const contacts = phones(2);
      const id = await create(contacts);
      await t.app.services.campaigns.move(t.workspaceId, id, 'running');
      await t.app.services.campaigns.move(t.workspaceId, id, end);
      const before = await record(id);
      const answer = await postEvents(t.url, t.key, { type: 'message.read', campaign_id: id, contact: contacts[0] });
      expect(answer.status).toBe(200);
      const after = await record(id);
      expect(after).toMatchObject({ status: end, startedAt: before.startedAt, completedAt: before.completedAt });
      expect(after.counters.read).toBe(1);
    }
  });

  it('a running campaign keeps its started_at; lifecycle moves after auto-start follow the table', async () => {
    const contacts = phones(2);
    const id = await create(contacts);
    await postEvents(t.url, t.key, { type: 'message.sent', campaign_id: id, contact: contacts[0] });
    const refused = await gql(t.url, t.key, `mutation($id: ID!) { startCampaign(id: $id) { status } }`, { id });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const scheduled = await gql(
      t.url,
      t.key,
      `mutation($id: ID!) { scheduleCampaign(id: $id, at: "2031-01-01T00:00:00Z") { status } }`,
      { id },
    );
    expect(scheduled.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const completed = await gql(t.url, t.key, `mutation($id: ID!) { completeCampaign(id: $id) { status } }`, { id });
    expect(completed.body.data).toEqual({ completeCampaign: { status: 'COMPLETED' } });
  });

  it('a refused batch starts nothing', async () => {
    const contacts = phones(1);
    const id = await create(contacts);
    const answer = await postEvents(t.url, t.key, {
      events: [
        { type: 'message.sent', campaign_id: id, contact: contacts[0] },
        { type: 'message.sent', campaign_id: id, contact: '+19999999999' },
      ],
    });
    expect(answer.status).toBe(422);
    expect((await record(id)).status).toBe('draft');
  });

  it('announces the move to subscribers', async () => {
    const contacts = phones(2);
    const id = await create(contacts);
    const live = liveClient(t.url, t.key);
    const recorder: RecorderType = new Recorder(live.client, STATS_SUBSCRIPTION, { id });
    try {
      await recorder.until((r) => r.values.length >= 1);
      expect(recorder.values[0].campaignStatsUpdated.campaignStatus).toBe('DRAFT');
      await postEvents(t.url, t.key, { type: 'message.sent', campaign_id: id, contact: contacts[0] });
      await recorder.until((r) => r.last().campaignStatsUpdated.campaignStatus === 'RUNNING');
      expect(recorder.last().campaignStatsUpdated.sentCount).toBe(1);
      // A draft whose contacts already hold evidence (a campaign from before auto-start): a repeat
      // moves no counter, so only the status move can be what is announced.
      await t.db.query(`UPDATE campaigns SET status = 'draft', started_at = NULL WHERE id = $1`, [id]);
      await t.app.services.campaigns.move(t.workspaceId, id, 'scheduled', { at: new Date('2031-01-01T00:00:00Z') });
      await recorder.until((r) => r.last().campaignStatsUpdated.campaignStatus === 'SCHEDULED');
      await postEvents(t.url, t.key, { type: 'message.sent', campaign_id: id, contact: contacts[0] });
      await recorder.until((r) => r.last().campaignStatsUpdated.campaignStatus === 'RUNNING');
      expect(recorder.last().campaignStatsUpdated.sentCount).toBe(1);
    } finally {
      recorder.stop();
      await live.client.dispose();
    }
  });
});
