import { REFERENCE_NUMBERS, referenceCampaign } from '../../src/demo/reference-campaign';
import { phones } from '../factories/campaign.factory';
import { gql, postEvents } from '../support/http';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

const TIMELINE = `query($id: ID!, $bucket: TimelineBucket!, $from: DateTime, $to: DateTime) {
  campaignTimeline(campaignId: $id, bucket: $bucket, from: $from, to: $to) { at sent delivered read clicked failed replied }
}`;

describe('campaignTimeline', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('buckets each stage by its earliest time; columns sum to the counts', async () => {
    const { contacts, events } = referenceCampaign();
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'timeline', contacts });
    for (let i = 0; i < events.length; i += 2000) {
      const r = await postEvents(t.url, t.key, {
        events: events.slice(i, i + 2000).map((e) => ({ ...e, campaign_id: id })),
      });
      expect(r.status).toBe(200);
    }
    const minutes = await gql(t.url, t.key, TIMELINE, { id, bucket: 'MINUTE' });
    expect(minutes.body.errors).toBeUndefined();
    const points: Record<string, number | string>[] = minutes.body.data.campaignTimeline;
    const sum = (k: string) => points.reduce((n, p) => n + (p[k] as number), 0);
    expect({
      sent: sum('sent'),
      delivered: sum('delivered'),
      read: sum('read'),
      clicked: sum('clicked'),
      failed: sum('failed'),
      replied: sum('replied'),
    }).toEqual({
      sent: REFERENCE_NUMBERS.sent_count,
      delivered: REFERENCE_NUMBERS.delivered_count,
      read: REFERENCE_NUMBERS.read_count,
      clicked: REFERENCE_NUMBERS.clicked_count,
      failed: REFERENCE_NUMBERS.failed_count,
      replied: REFERENCE_NUMBERS.replied_count,
    });
    for (const p of points) expect(p.at).toMatch(/:00\.000Z$/);
    expect([...points].map((p) => p.at)).toEqual([...points].map((p) => p.at).sort());

    const hours = await gql(t.url, t.key, TIMELINE, { id, bucket: 'HOUR' });
    const hourPoints: Record<string, number | string>[] = hours.body.data.campaignTimeline;
    expect(hourPoints.reduce((n, p) => n + (p.read as number), 0)).toBe(1204);
    for (const p of hourPoints) expect(p.at).toMatch(/T\d\d:00:00\.000Z$/);

    const window = await gql(t.url, t.key, TIMELINE, { id, bucket: 'MINUTE', from: points[1]!.at, to: points[2]!.at });
    expect(window.body.data.campaignTimeline).toEqual([points[1]]);
  });

  it('answers like campaignStats for bad, missing and foreign campaigns, and refuses from after to', async () => {
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'x', contacts: phones(1) });
    const other = await t.newKey('timeline-other');
    const code = async (key: string, variables: Record<string, unknown>) =>
      (await gql(t.url, key, TIMELINE, variables)).body.errors?.[0]?.extensions?.code;
    expect(await code(other.key, { id, bucket: 'HOUR' })).toBe('NOT_FOUND');
    expect(await code(t.key, { id: 'nope', bucket: 'HOUR' })).toBe('BAD_USER_INPUT');
    expect(await code(t.key, { id, bucket: 'DAY' })).toBe('BAD_USER_INPUT');
    expect(await code(t.key, { id, bucket: 'HOUR', from: '2026-06-16T00:00:00Z', to: '2026-06-15T00:00:00Z' })).toBe(
      'BAD_USER_INPUT',
    );
    expect((await gql(t.url, t.key, TIMELINE, { id, bucket: 'HOUR' })).body.data.campaignTimeline).toEqual([]);
  });
});
