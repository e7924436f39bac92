import type { CampaignsService } from '../../src/campaigns/campaigns.service';
import type { CampaignWithCounters } from '../../src/store/campaign.store';

let sequence = 0;

/** `count` distinct E.164 numbers, distinct from every other call in this process. */
export function phones(count: number): string[] {
  const base = ++sequence * 1_000_000;
  return Array.from({ length: count }, (_, i) => `+1${String(4_000_000_000 + base + i).padStart(10, '0')}`);
}

export function createCampaign(
  campaigns: CampaignsService,
  workspaceId: string,
  options: { name?: string; contacts?: string[]; count?: number } = {},
): Promise<CampaignWithCounters> {
  return campaigns.create(workspaceId, {
    name: options.name ?? `Campaign ${++sequence}`,
    contacts: options.contacts ?? phones(options.count ?? 10),
  });
}

/** Fisher-Yates with a seeded generator, so a failing order can be replayed. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
