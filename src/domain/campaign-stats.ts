import type { DeliveryCounters } from './delivery-lattice';
import { succeeded } from './delivery-lattice';
import type { CampaignStatus } from './campaign-status';
import type { DeliveryError } from './delivery-event';

/** A failure reason with the number of failed contacts it holds. */
export interface FailureReasonCount extends DeliveryError {
  count: number;
}

/** A campaign's stored counters: one row, moved with its contacts, so a read is O(1). */
export interface CampaignCounts extends DeliveryCounters {
  totalContacts: number;
  /** when the numbers last changed */
  updatedAt: Date;
}

/**
 * The stored facts of a campaign that its stats are computed from. The store hands its TypeORM
 * entities (a campaign with its counters row), which have this shape; the domain needs no more.
 */
export interface CampaignRecord {
  id: string;
  name: string;
  status: CampaignStatus;
  createdAt: Date;
  scheduledAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  counters: CampaignCounts;
}

/** Every stats field of docs/graphql.md, computed from a record. */
export interface CampaignStats {
  campaignId: string;
  name: string;
  campaignStatus: CampaignStatus;
  totalContacts: number;
  sentCount: number;
  deliveredCount: number;
  readCount: number;
  clickedCount: number;
  failedCount: number;
  repliedCount: number;
  successCount: number;
  pendingCount: number;
  deliveryRate: number;
  readRate: number;
  clickRate: number;
  replyRate: number;
  failureRate: number;
  createdAt: Date;
  scheduledAt: Date | null;
  startedAt: Date | null;
  completedAt: Date | null;
  updatedAt: Date;
}

/** `numerator / denominator`, or 0 when the denominator is 0 (never NaN or Infinity). */
export function rate(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** Every stats field of a campaign from its stored facts (DESIGN sections 1 and 8). */
export function campaignStats(record: CampaignRecord): CampaignStats {
  const c = record.counters;
  const total = c.totalContacts;
  return {
    campaignId: record.id,
    name: record.name,
    campaignStatus: record.status,
    totalContacts: total,
    sentCount: c.sent,
    deliveredCount: c.delivered,
    readCount: c.read,
    clickedCount: c.clicked,
    failedCount: c.failed,
    repliedCount: c.replied,
    successCount: succeeded(c),
    pendingCount: total - c.touched,
    deliveryRate: rate(c.delivered, c.sent),
    readRate: rate(c.read, c.delivered),
    clickRate: rate(c.clicked, c.delivered),
    replyRate: rate(c.replied, c.delivered),
    failureRate: rate(c.failed, total),
    createdAt: record.createdAt,
    scheduledAt: record.scheduledAt,
    startedAt: record.startedAt,
    completedAt: record.completedAt,
    updatedAt: c.updatedAt,
  };
}

/** Most frequent first; ties by lower code, so the order is stable. Zero counts are dropped. */
export function sortFailureReasons(reasons: FailureReasonCount[]): FailureReasonCount[] {
  return reasons.filter((r) => r.count > 0).sort((a, b) => b.count - a.count || a.code - b.code);
}
