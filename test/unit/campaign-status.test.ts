import { CAMPAIGN_STATUSES, canMove, planStatusMove } from '../../src/domain/campaign-status';
import type { CampaignStatus } from '../../src/domain/campaign-status';
import { DomainError } from '../../src/domain/errors';

const allowed = new Set([
  'draft>scheduled',
  'draft>running',
  'scheduled>running',
  'scheduled>draft',
  'running>completed',
  'running>failed',
  'draft>cancelled',
  'scheduled>cancelled',
  'running>cancelled',
]);

describe('campaign status moves (docs/lifecycle.md)', () => {
  const pairs = CAMPAIGN_STATUSES.flatMap((from) => CAMPAIGN_STATUSES.map((to) => [from, to] as const));
  it.each(pairs)('%s -> %s', (from, to) => {
    const ok = allowed.has(`${from}>${to}`);
    expect(canMove(from, to)).toBe(ok);
    const move = () => planStatusMove(from, to, new Date(0));
    if (ok) expect(move).not.toThrow();
    else {
      expect(move).toThrow(DomainError);
      expect(move).toThrow(`Cannot move a campaign from ${from} to ${to}`);
    }
  });

  it('sets the timestamp of each move', () => {
    const now = new Date('2026-06-15T10:05:00Z');
    const at = new Date('2026-06-16T09:00:00Z');
    expect(planStatusMove('draft', 'scheduled', now, at)).toEqual({ scheduledAt: at });
    expect(planStatusMove('scheduled', 'draft', now)).toEqual({ scheduledAt: null });
    expect(planStatusMove('scheduled', 'running', now)).toEqual({ startedAt: now });
    for (const end of ['completed', 'failed', 'cancelled'] as CampaignStatus[]) {
      expect(planStatusMove('running', end, now)).toEqual({ completedAt: now });
    }
  });
});
