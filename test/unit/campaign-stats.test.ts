import { campaignStats, rate, sortFailureReasons } from '../../src/domain/campaign-stats';
import type { CampaignRecord } from '../../src/domain/campaign-stats';
import type { DeliveryCounters } from '../../src/domain/delivery-lattice';

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

  it('pending is the contacts with no flag; success is total minus failed', () => {
    const s = campaignStats(record({ touched: 3, sent: 2, failed: 1 }, 10));
    expect(s.pendingCount).toBe(7);
    expect(s.successCount).toBe(9);
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
