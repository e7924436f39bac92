import Redis from 'ioredis';
import { phones } from '../factories/campaign.factory';
import { AfterCommitChangeFeed, STATS_CHANNEL } from '../../src/store/change-feed';
import { reconcileCampaigns } from '../../src/store/reconcile.store';
import { postEvents } from '../support/http';
import { Recorder, STATS_SUBSCRIPTION, liveClient } from '../support/live';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';

/** Set by globalSetup when a Redis answered at REDIS_URL (default redis://127.0.0.1:6379). */
const redisUrl = process.env.TEST_REDIS_URL;
// Without a reachable Redis these tests are registered as skipped (globalSetup printed why), so the
// run says so instead of passing a test that checked nothing.
const describeWithRedis = redisUrl ? describe : describe.skip;

describeWithRedis(`live stats with REDIS_URL (${redisUrl ?? 'no Redis reachable'})`, () => {
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  beforeAll(async () => {
    a = await startTestApp({ redisUrl: redisUrl! });
    b = await startTestApp({ redisUrl: redisUrl! }, a);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('Redis pub/sub carries the announcements across instances instead of LISTEN/NOTIFY', async () => {
    const [listeners] = await a!.db.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE application_name = 'campaign-stats-gateway-listener' AND datname = current_database()`,
    );
    expect(listeners.n).toBe(0);
    const contacts = phones(2);
    const id = (await a!.app.services.campaigns.create(a!.workspaceId, { name: 'redis', contacts })).id;
    const live = liveClient(b!.url, a!.key);
    const recorder = new Recorder(live.client, STATS_SUBSCRIPTION, { id });
    try {
      await recorder.until((r) => r.values.length === 1);
      await postEvents(a!.url, a!.key, { type: 'message.delivered', campaign_id: id, contact: contacts[1] });
      await recorder.until((r) => r.last().campaignStatsUpdated.deliveredCount === 1);
    } finally {
      recorder.stop();
      await live.client.dispose();
    }
  });

  it('reconcile --fix announces its repair through the same feed: subscribers on another instance see it', async () => {
    const contacts = phones(2);
    const id = (await a!.app.services.campaigns.create(a!.workspaceId, { name: 'repair', contacts })).id;
    await postEvents(a!.url, a!.key, { type: 'message.read', campaign_id: id, contact: contacts[0] });
    const live = liveClient(b!.url, a!.key);
    const recorder = new Recorder(live.client, STATS_SUBSCRIPTION, { id });
    const redis = new Redis(redisUrl!);
    const feed = new AfterCommitChangeFeed(a!.db, (ids) => {
      for (const changed of ids) void redis.publish(STATS_CHANNEL, changed);
    });
    try {
      await recorder.until((r) => r.values.length === 1 && r.last().campaignStatsUpdated.readCount === 1);
      // Drift made behind the gateway's back (no announcement), then repaired by reconcile.
      await a!.db.query(`UPDATE campaign_counters SET read = 7 WHERE campaign_id = $1`, [id]);
      const [report] = await reconcileCampaigns(a!.db, { campaignId: id, fix: true, feed });
      expect(report!.drift).toBe(true);
      await recorder.until((r) => r.values.length >= 2);
      expect(recorder.last().campaignStatsUpdated.readCount).toBe(1);
    } finally {
      feed.detach();
      recorder.stop();
      await live.client.dispose();
      await redis.quit();
    }
  });
});
