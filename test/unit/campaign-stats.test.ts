import { campaignStats, rate, sortFailureReasons } from '../../src/domain/campaign-stats';
import type { CampaignRecord } from '../../src/domain/campaign-stats';
import type { DeliveryCounters } from '../../src/domain/delivery-lattice';
import { Evidence, recount } from '../../src/domain/delivery-lattice';

const record = (over: Partial<DeliveryCounters>, total: number): CampaignRecord => ({
  id: '507f1f77bcf86cd799439060',
  name: 'Summer Sale Blast',
  status: 'completed',
  createdAt: new Date('2026-06-15T10:00:00Z'),
  scheduledAt: null,
  startedAt: new Date('2026-06-15T10:05:00Z'),
  completedAt: new Date('2026-06-15T10:45:00Z'),
  counters: {
    totalContacts: total,
    touched: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    clicked: 0,
    replied: 0,
    failed: 0,
    ...over,
    updatedAt: new Date('2026-06-15T10:45:00Z'),
  },
});

describe('stats arithmetic', () => {
  it('computes the reference example', () => {
    const s = campaignStats(
      record({ touched: 2000, sent: 1998, delivered: 1932, read: 1204, clicked: 312, failed: 2, replied: 41 }, 2000),
    );
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
    });
    expect(s.deliveryRate).toBeCloseTo(1932 / 1998, 12);
    expect(s.readRate).toBeCloseTo(1204 / 1932, 12);
    expect(s.clickRate).toBeCloseTo(312 / 1932, 12);
    expect(s.replyRate).toBeCloseTo(41 / 1932, 12);
    expect(s.failureRate).toBeCloseTo(2 / 2000, 12);
  });

  it('rates are 0, never NaN, when the denominator is 0', () => {
    const s = campaignStats(record({}, 0));
    expect([s.deliveryRate, s.readRate, s.clickRate, s.replyRate, s.failureRate]).toEqual([0, 0, 0, 0, 0]);
    expect(rate(5, 0)).toBe(0);
  });

  it('pending is the contacts with no flag; success is the sent that did not fail', () => {
    // 10 targeted: 7 not sent yet, 1 sent, 1 sent then failed, 1 failed before it was sent
    const { SENT, FAILED } = Evidence;
    const counters = recount([0, 0, 0, 0, 0, 0, 0, SENT, SENT | FAILED, FAILED]);
    expect(counters).toMatchObject({ touched: 3, sent: 2, failed: 2 });
    const s = campaignStats(record(counters, 10));
    expect(s.pendingCount).toBe(7);
    expect(s.successCount).toBe(1);
  });

  it('a running campaign: contacts not sent yet are not successes', () => {
    const { SENT, DELIVERED, READ, FAILED } = Evidence;
    const running = { ...record({}, 1000), status: 'running' as const };
    expect(campaignStats(running)).toMatchObject({ successCount: 0, pendingCount: 1000, failedCount: 0 });
    const flags = [...Array<number>(600).fill(0), ...Array<number>(300).fill(SENT), SENT | DELIVERED, SENT | READ];
    flags.push(...Array<number>(98).fill(SENT | DELIVERED));
    const s = campaignStats({ ...running, counters: { ...running.counters, ...recount(flags) } });
    expect(s).toMatchObject({ sentCount: 400, successCount: 400, pendingCount: 600, failedCount: 0 });
    // two of the pending fail: one before it was sent (not sent), one after (sent, failed)
    const withFailures = recount([...flags.slice(2), FAILED, SENT | FAILED]);
    expect(campaignStats({ ...running, counters: { ...running.counters, ...withFailures } })).toMatchObject({
      sentCount: 401,
      failedCount: 2,
      successCount: 400,
      pendingCount: 598,
    });
  });

  it('a delivered contact that a device reported failed is a success', () => {
    const { SENT, DELIVERED, FAILED } = Evidence;
    const s = campaignStats(record(recount([SENT | DELIVERED | FAILED, SENT | FAILED]), 2));
    expect(s).toMatchObject({ sentCount: 2, deliveredCount: 1, failedCount: 1, successCount: 1 });
  });

  it('sorts failure reasons most frequent first, ties by code, dropping zeros', () => {
    expect(
      sortFailureReasons([
        { code: 5, title: 'e', count: 1 },
        { code: 3, title: 'c', count: 4 },
        { code: 1, title: 'a', count: 1 },
        { code: 9, title: 'z', count: 0 },
      ]).map((r) => r.code),
    ).toEqual([3, 1, 5]);
  });
});
