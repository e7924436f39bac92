import { createHash, randomInt } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY = /^wapl_[0-9A-Za-z]{32,128}$/;
/** Characters of a key kept in clear to name it (`wapl_` and 8 more), e.g. for revocation. */
export const API_KEY_PREFIX_LENGTH = 13;

/** A new key: `wapl_` + 40 random base62 characters (about 238 bits). Shown once, never stored. */
export function newApiKey(): string {
  let body = '';
  for (let i = 0; i < 40; i++) body += BASE62[randomInt(62)];
  return `wapl_${body}`;
}

export function isApiKeyShape(value: string): boolean {
  return KEY.test(value);
}

/**
 * What is stored of a key: its SHA-256. The keys are 238-bit random strings, so a fast hash is
 * enough (no dictionary to guess from), and lookups stay one indexed equality.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function apiKeyPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX_LENGTH);
}

/** The key in an `Authorization: Bearer …` value, or null. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1]! : null;
}
