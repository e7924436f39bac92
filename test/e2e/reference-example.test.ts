import { REFERENCE_NUMBERS, referenceCampaign } from '../../src/demo/reference-campaign';
import { shuffle } from '../factories/campaign.factory';
import { gql, postEvents, restStats } from '../support/http';
import { storedAndRecounted } from '../support/recount';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

const STATS_FIELDS = `campaignId name campaignStatus totalContacts sentCount deliveredCount readCount clickedCount
  failedCount repliedCount successCount pendingCount deliveryRate readRate clickRate replyRate failureRate
  failureReasons { code title count } createdAt scheduledAt startedAt completedAt updatedAt`;

describe('the reference example, end to end over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('a 2,000-contact campaign fed shuffled, duplicated events ends at exactly the reference numbers', async () => {
    const { contacts, events } = referenceCampaign();
    const created = await gql(
      t.url,
      t.key,
      `mutation($input: CreateCampaignInput!) { createCampaign(input: $input) { id status stats { totalContacts pendingCount } } }`,
      { input: { name: 'Summer Sale Blast', contacts } },
    );
    expect(created.body.errors).toBeUndefined();
    const campaign = created.body.data.createCampaign;
    expect(campaign).toMatchObject({ status: 'DRAFT', stats: { totalContacts: 2000, pendingCount: 2000 } });
    const started = await gql(t.url, t.key, `mutation($id: ID!) { startCampaign(id: $id) { status startedAt } }`, {
      id: campaign.id,
    });
    expect(started.body.data.startCampaign.status).toBe('RUNNING');

    // Every event once with its own id, a third of them again (same id: a retry), and a tenth
    // again without an id (a resend the lattice must absorb), all shuffled.
    const withIds = events.map((e, i) => ({ ...e, id: `evt_${i}`, campaign_id: campaign.id }));
    const resent = withIds.filter((_, i) => i % 3 === 0);
    const noId = withIds.filter((_, i) => i % 10 === 0).map(({ id: _id, ...rest }) => rest);
    const all = shuffle([...withIds, ...resent, ...noId], 20260615);
    const batches: unknown[][] = [];
    for (let i = 0; i < all.length; i += 250) batches.push(all.slice(i, i + 250));
    for (let i = 0; i < batches.length; i += 4) {
      const answers = await Promise.all(
        batches.slice(i, i + 4).map((batch) => postEvents(t.url, t.key, { events: batch })),
      );
      for (const [j, answer] of answers.entries()) {
        expect(answer).toEqual({ status: 200, json: { status: 'success', accepted: batches[i + j]!.length } });
      }
    }
    await gql(t.url, t.key, `mutation($id: ID!) { completeCampaign(id: $id) { status } }`, { id: campaign.id });

    const rest = await restStats(t.url, t.key, campaign.id);
    expect(rest.status).toBe(200);
    expect(Object.keys(rest.json)).toEqual([
      'status',
      'campaign_id',
      'name',
      'campaign_status',
      'total_contacts',
      'sent_count',
      'delivered_count',
      'read_count',
      'clicked_count',
      'failed_count',
      'replied_count',
      'success_count',
      'created_at',
      'scheduled_at',
      'started_at',
      'completed_at',
    ]);
    expect(rest.json).toMatchObject({
      status: 'success',
      campaign_id: campaign.id,
      name: 'Summer Sale Blast',
      campaign_status: 'completed',
      ...REFERENCE_NUMBERS,
      scheduled_at: null,
    });
    for (const key of ['created_at', 'started_at', 'completed_at']) {
      expect(rest.json[key]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    expect(rest.headers.get('content-type')).toBe('application/json; charset=utf-8');

    const graph = await gql(t.url, t.key, `query($id: ID!) { campaignStats(campaignId: $id) { ${STATS_FIELDS} } }`, {
      id: campaign.id,
    });
    expect(graph.body.errors).toBeUndefined();
    const s = graph.body.data.campaignStats;
    expect(s).toMatchObject({
      totalContacts: 2000,
      sentCount: 1998,
      deliveredCount: 1932,
      readCount: 1204,
      clickedCount: 312,
      failedCount: 2,
      repliedCount: 41,
      successCount: 1998,
      pendingCount: 0,
      campaignStatus: 'COMPLETED',
      failureReasons: [
        { code: 131026, title: 'Message undeliverable', count: 1 },
        { code: 131049, title: 'Meta chose not to deliver', count: 1 },
      ],
    });
    expect(s.deliveryRate).toBeCloseTo(1932 / 1998, 12);
    expect(s.failureRate).toBeCloseTo(2 / 2000, 12);
    expect(s.createdAt.replace(/\.\d+Z$/, 'Z')).toBe(rest.json.created_at);

    const { stored, recounted, failureReasonTotal } = await storedAndRecounted(t.db, campaign.id);
    expect(stored).toEqual(recounted);
    expect(failureReasonTotal).toBe(2);
  });
});
