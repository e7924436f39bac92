import { phones } from '../factories/campaign.factory';
import { postEvents } from '../support/http';
import { Recorder, STATS_SUBSCRIPTION, liveClient } from '../support/live';
import type { TestApp } from '../support/test-app';
import { startTestApp } from '../support/test-app';
import { postWebhook, webhookBody } from '../support/whatsapp';

describe('GET /metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.stop());

  it('counts ingestion by kind and outcome, parked facts, webhook latency, subscriptions, pushes and the pool', async () => {
    const contacts = phones(2);
    const { id } = await t.app.services.campaigns.create(t.workspaceId, { name: 'metrics', contacts });
    await postEvents(t.url, t.key, {
      type: 'message.sent',
      campaign_id: id,
      contact: contacts[0],
      message_id: 'wamid.m1',
    });
    await postEvents(t.url, t.key, { type: 'message.sent', campaign_id: id, contact: '+19990000000' }); // 422
    await postWebhook(t.url, webhookBody([{ id: 'wamid.m1', status: 'read', timestamp: 1781517960 }]));
    await postWebhook(t.url, webhookBody([{ id: 'wamid.nobody', status: 'delivered', timestamp: 1781517960 }]));
    await postWebhook(t.url, webhookBody([{ id: 'wamid.m1', status: 'deleted', timestamp: 1781517960 }]));
    const live = liveClient(t.url, t.key);
    const recorder = new Recorder(live.client, STATS_SUBSCRIPTION, { id });
    await recorder.until((r) => r.values.length === 1);

    const response = await fetch(`${t.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const line of [
      'csg_events_ingested_total{source="dispatcher",kind="SENT"} 1',
      'csg_events_ingested_total{source="whatsapp",kind="READ"} 1',
      'csg_events_ingested_total{source="whatsapp",kind="DELIVERED"} 1',
      'csg_webhook_items_ignored_total{reason="unknown_status"} 1',
      'csg_ingest_requests_refused_total{source="dispatcher",status="422"} 1',
      'csg_parked_deliveries 1',
      'csg_live_subscriptions 1',
      'csg_live_watched_campaigns 1',
      'csg_webhook_duration_seconds_count{status="200"} 3',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toMatch(/csg_db_pool_connections\{state="total"\} \d+/);
    expect(text).toMatch(/csg_live_pushes_total \d+/);
    expect(text).toMatch(/csg_process_cpu_user_seconds_total/);
    recorder.stop();
    await live.client.dispose();
  });
});
