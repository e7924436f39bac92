import { randomBytes } from 'node:crypto';

const CAMPAIGN_ID = /^[0-9a-f]{24}$/;
const E164 = /^\+[0-9]{8,15}$/;

/** Campaign ids: 24 lowercase hex characters, ObjectId-like (docs/lifecycle.md). */
export function isCampaignId(value: unknown): value is string {
  return typeof value === 'string' && CAMPAIGN_ID.test(value);
}

/**
 * A new campaign id: a 4-byte time prefix (so ids sort roughly by creation, as ObjectIds do) and
 * 8 random bytes.
 */
export function newCampaignId(now = Date.now()): string {
  const seconds = Math.floor(now / 1000) >>> 0;
  return seconds.toString(16).padStart(8, '0') + randomBytes(8).toString('hex');
}

/** E.164: `+` then 8 to 15 digits (docs/graphql.md). No spaces or punctuation are folded away. */
export function isE164(value: unknown): value is string {
  return typeof value === 'string' && E164.test(value);
}

/** Splits contact numbers into the unique valid ones (first-seen order kept) and the invalid ones. */
export function normalizeContacts(values: readonly unknown[]): { valid: string[]; invalid: string[] } {
  const seen = new Set<string>();
  const valid: string[] = [];
  const invalid: string[] = [];
  for (const value of values) {
    if (!isE164(value)) invalid.push(typeof value === 'string' ? value : JSON.stringify(value));
    else if (!seen.has(value)) {
      seen.add(value);
      valid.push(value);
    }
  }
  return { valid, invalid };
}
