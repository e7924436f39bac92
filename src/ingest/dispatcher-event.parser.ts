import type { DeliveryError, DispatcherEventType } from '../domain/delivery-event';
import { DISPATCHER_EVENT_TYPES, isDispatcherEventType } from '../domain/delivery-event';
import type { ItemProblem } from '../domain/errors';
import { badInput } from '../domain/errors';
import { isCampaignId, isE164 } from '../domain/identifiers';
import { isInt32, unstorableTextReason } from '../domain/input-rules';
import { isPlainObject } from '../domain/json';
import { parseEventTime } from '../domain/event-time';

export { parseEventTime };

/** Events in one request to `POST /api/v1/events`, at most. @default 10000 */
export const MAX_EVENTS_PER_REQUEST = 10_000;
const MAX_ID_LENGTH = 200;

/** A dispatcher event that passed validation (docs/rest.md). */
export interface DispatcherEvent {
  index: number;
  id: string | null;
  type: DispatcherEventType;
  /** with `contact`, names the contact */
  campaignId: string | null;
  contact: string | null;
  /** names the contact alone once registered; with `message.sent` and a contact, registers it */
  messageId: string | null;
  at: Date;
  error: DeliveryError | null;
}

function parseOne(raw: unknown, index: number, receivedAt: Date, problems: ItemProblem[]): DispatcherEvent | null {
  const fail = (reason: string) => {
    problems.push({ index, reason });
    return null;
  };
  if (!isPlainObject(raw)) return fail('event must be a JSON object');
  const { id, type, campaign_id, contact, message_id, timestamp, error } = raw;
  if (!isDispatcherEventType(type)) return fail(`type must be one of ${DISPATCHER_EVENT_TYPES.join(', ')}`);
  if (id !== undefined && id !== null && (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH)) {
    return fail(`id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  for (const [field, value] of [
    ['id', id],
    ['message_id', message_id],
  ] as const) {
    const reason = typeof value === 'string' ? unstorableTextReason(field, value) : null;
    if (reason) return fail(reason);
  }
  if (campaign_id !== undefined && campaign_id !== null && !isCampaignId(campaign_id)) {
    return fail('campaign_id must be 24 lowercase hex characters');
  }
  if (contact !== undefined && contact !== null && !isE164(contact)) {
    return fail('contact must be an E.164 number (+ and 8 to 15 digits)');
  }
  if (
    message_id !== undefined &&
    message_id !== null &&
    (typeof message_id !== 'string' || message_id.length === 0 || message_id.length > MAX_ID_LENGTH)
  ) {
    return fail(`message_id must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  const hasPair = typeof campaign_id === 'string' && typeof contact === 'string';
  if (!hasPair && typeof message_id !== 'string') {
    return fail('an event names its contact with campaign_id and contact, or with a registered message_id');
  }
  if ((typeof campaign_id === 'string') !== (typeof contact === 'string') && typeof message_id !== 'string') {
    return fail('campaign_id and contact go together');
  }
  let at = receivedAt;
  if (timestamp !== undefined && timestamp !== null) {
    const parsed = parseEventTime(timestamp);
    if (!parsed) return fail('timestamp must be RFC 3339 (e.g. 2026-06-15T10:05:00Z) or Unix seconds');
    at = parsed;
  }
  let deliveryError: DeliveryError | null = null;
  if (error !== undefined && error !== null) {
    if (
      !isPlainObject(error) ||
      !Number.isSafeInteger(error.code) ||
      (error.title !== undefined && typeof error.title !== 'string')
    ) {
      return fail('error must be { "code": integer, "title": string }');
    }
    if (!isInt32(error.code)) return fail('error.code must be an integer from -2147483648 to 2147483647');
    const titleReason = typeof error.title === 'string' ? unstorableTextReason('error.title', error.title) : null;
    if (titleReason) return fail(titleReason);
    deliveryError = { code: error.code, title: (error.title ?? '').slice(0, 500) };
  }
  return {
    index,
    id: typeof id === 'string' ? id : null,
    type,
    campaignId: hasPair ? campaign_id : null,
    contact: hasPair ? contact : null,
    messageId: typeof message_id === 'string' ? message_id : null,
    at,
    error: type === 'message.failed' ? deliveryError : null,
  };
}

/**
 * Validates a request body whole: one event, or `{ "events": [...] }`. Throws BAD_USER_INPUT naming
 * the index and reason of every bad event; returns nothing partial.
 */
export function parseDispatcherEvents(body: unknown, receivedAt: Date): DispatcherEvent[] {
  let raws: unknown[];
  if (isPlainObject(body) && 'events' in body) {
    if (!Array.isArray(body.events)) throw badInput('events must be an array');
    raws = body.events;
  } else if (isPlainObject(body)) {
    raws = [body];
  } else {
    throw badInput('Body must be one event object or { "events": [...] }');
  }
  if (raws.length === 0) throw badInput('events must not be empty');
  if (raws.length > MAX_EVENTS_PER_REQUEST) {
    throw badInput(`At most ${MAX_EVENTS_PER_REQUEST} events per request`);
  }
  const problems: ItemProblem[] = [];
  const events: DispatcherEvent[] = [];
  raws.forEach((raw, index) => {
    const event = parseOne(raw, index, receivedAt, problems);
    if (event) events.push(event);
  });
  if (problems.length > 0) throw badInput(`${problems.length} invalid event(s)`, problems);
  return events;
}
