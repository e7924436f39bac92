import { badInput } from './errors';

/** The statuses of docs/lifecycle.md. Stored lower case, as REST shows it; GraphQL shows the upper-case enum. */
export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'running', 'completed', 'cancelled', 'failed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

const ALLOWED: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ['scheduled', 'running', 'cancelled'],
  scheduled: ['running', 'draft', 'cancelled'],
  running: ['completed', 'failed', 'cancelled'],
  completed: [],
  cancelled: [],
  failed: [],
};

export function canMove(from: CampaignStatus, to: CampaignStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isFinished(status: CampaignStatus): boolean {
  return ALLOWED[status].length === 0;
}

/** The timestamps a move sets (docs/lifecycle.md); the others stay as they were. */
export interface StatusTimes {
  scheduledAt?: Date | null;
  startedAt?: Date | null;
  completedAt?: Date;
}

/**
 * Checks a status move and says which timestamps it sets. Refused moves throw BAD_USER_INPUT and
 * change nothing. Moving a scheduled campaign back to draft clears its `scheduledAt`.
 */
export function planStatusMove(from: CampaignStatus, to: CampaignStatus, now: Date, scheduleAt?: Date): StatusTimes {
  if (!canMove(from, to)) throw badInput(`Cannot move a campaign from ${from} to ${to}`);
  switch (to) {
    case 'scheduled':
      return { scheduledAt: scheduleAt ?? now };
    case 'draft':
      return { scheduledAt: null };
    case 'running':
      return { startedAt: now };
    case 'completed':
    case 'cancelled':
    case 'failed':
      return { completedAt: now };
  }
}

/** Whether contacts may still be added: not once the campaign has ended. */
export function acceptsContacts(status: CampaignStatus): boolean {
  return !isFinished(status);
}
