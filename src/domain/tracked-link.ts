import { createHmac, timingSafeEqual } from 'node:crypto';
import { isStorableText } from './input-rules';

/**
 * Tracked links (docs/rest.md#tracked-links). Pure: token arithmetic, URL and user-agent rules.
 *
 * A per-contact token is 36 bytes, base64url (48 characters): the link id (12 bytes), the contact's
 * id (8 bytes) and the first 16 bytes (128 bits) of HMAC-SHA256 under the link's own random
 * 32-byte secret of `<link id>:<contact id>`. Nothing per contact is stored; a token names its link
 * and contact, and only the holder of the link's secret can make one.
 */

/** Longest URL a tracked link may hold. @default 2048 */
export const MAX_TRACKED_URL_LENGTH = 2048;
const TOKEN = /^[A-Za-z0-9_-]{48}$/;
const MAC_BYTES = 16;

export interface TokenParts {
  linkId: string;
  contactId: string;
}

function mac(secret: Buffer, linkId: string, contactId: string): Buffer {
  return createHmac('sha256', secret).update(`${linkId}:${contactId}`).digest().subarray(0, MAC_BYTES);
}

/** The token of one contact for one link. */
export function clickToken(secret: Buffer, linkId: string, contactId: string): string {
  const id = Buffer.alloc(8);
  id.writeBigUInt64BE(BigInt(contactId));
  return Buffer.concat([Buffer.from(linkId, 'hex'), id, mac(secret, linkId, contactId)]).toString('base64url');
}

/** The link and contact a token claims, before its signature is checked; null when it is not a token's shape. */
export function tokenParts(token: string): TokenParts | null {
  if (!TOKEN.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.length !== 36 || bytes.toString('base64url') !== token) return null;
  return { linkId: bytes.subarray(0, 12).toString('hex'), contactId: bytes.readBigUInt64BE(12).toString() };
}

/** Whether the token was made with this link's secret (constant time). */
export function tokenIsGenuine(token: string, secret: Buffer): boolean {
  const parts = tokenParts(token);
  if (!parts) return false;
  const given = Buffer.from(token, 'base64url').subarray(20);
  return timingSafeEqual(given, mac(secret, parts.linkId, parts.contactId));
}

/**
 * Why a URL cannot be tracked, or null when it can: http or https with a host, printable ASCII
 * only (no spaces or control characters: it is sent back as the `Location` header exactly), at
 * most {@link MAX_TRACKED_URL_LENGTH} characters.
 */
export function trackedUrlProblem(url: string): string | null {
  if (!isStorableText(url)) return 'url must not contain U+0000 or a lone surrogate';
  if (url.length === 0 || url.length > MAX_TRACKED_URL_LENGTH) {
    return `url must be 1 to ${MAX_TRACKED_URL_LENGTH} characters`;
  }
  if (!/^[\x21-\x7e]+$/.test(url)) return 'url must be printable ASCII with no spaces (percent-encode the rest)';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'url must be an absolute http or https URL';
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !/^https?:\/\//i.test(url)) {
    return 'url must be an absolute http or https URL';
  }
  if (parsed.hostname === '') return 'url must name a host';
  return null;
}

/**
 * Fetchers that unfurl a link into a preview (chat apps, social networks, search crawlers): they
 * get the redirect, but their visit is not a click by the contact.
 */
const PREVIEW_AGENTS =
  /facebookexternalhit|facebookcatalog|meta-externalagent|WhatsApp|Slackbot|Slack-ImgProxy|Twitterbot|TelegramBot|Discordbot|LinkedInBot|SkypeUriPreview|Embedly|Pinterest|redditbot|Googlebot|bingbot|Applebot|vkShare|Iframely|Viber|Snapchat|Mastodon|Google-PageRenderer|Google Web Preview|Yahoo! Slurp|DuckDuckBot|YandexBot|bitlybot|Microsoft Preview/i;

/** Whether a User-Agent is a link-preview fetcher or crawler. */
export function isPreviewAgent(userAgent: string | undefined): boolean {
  return userAgent !== undefined && PREVIEW_AGENTS.test(userAgent);
}
