import { etagMatches, referenceStatsBody, strongEtag } from '../../src/http/campaign-stats.rest';

describe('the reference body (docs/rest.md)', () => {
  it('has the reference keys in order, numbers as numbers, times without fraction', () => {
    const body = referenceStatsBody({
      campaignId: '507f1f77bcf86cd799439060',
      name: 'Summer Sale Blast',
      campaignStatus: 'COMPLETED',
      totalContacts: 2000,
      sentCount: 1998,
      deliveredCount: 1932,
      readCount: 1204,
      clickedCount: 312,
      failedCount: 2,
      repliedCount: 41,
      successCount: 1998,
      createdAt: '2026-06-15T10:00:00.000Z',
      scheduledAt: null,
      startedAt: '2026-06-15T10:05:00.000Z',
      completedAt: '2026-06-15T10:45:00.000Z',
    });
    expect(body).toBe(
      '{"status":"success","campaign_id":"507f1f77bcf86cd799439060","name":"Summer Sale Blast",' +
        '"campaign_status":"completed","total_contacts":2000,"sent_count":1998,"delivered_count":1932,' +
        '"read_count":1204,"clicked_count":312,"failed_count":2,"replied_count":41,"success_count":1998,' +
        '"created_at":"2026-06-15T10:00:00Z","scheduled_at":null,"started_at":"2026-06-15T10:05:00Z",' +
        '"completed_at":"2026-06-15T10:45:00Z"}',
    );
  });

  it('ETags are strong and If-None-Match compares lists weakly', () => {
    const tag = strongEtag('x');
    expect(tag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(strongEtag('y')).not.toBe(tag);
    expect(etagMatches(tag, tag)).toBe(true);
    expect(etagMatches(`"a", ${tag}`, tag)).toBe(true);
    expect(etagMatches(`W/${tag}`, tag)).toBe(true);
    expect(etagMatches('*', tag)).toBe(true);
    expect(etagMatches('"other"', tag)).toBe(false);
    expect(etagMatches(undefined, tag)).toBe(false);
  });
});
