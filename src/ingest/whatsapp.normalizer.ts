import type { DeliveryError, DeliveryFact } from '../domain/delivery-event';
import type { EvidenceKind } from '../domain/delivery-lattice';
import { badInput } from '../domain/errors';
import { isCampaignId, isE164 } from '../domain/identifiers';
import { parseEventTime } from '../domain/event-time';
import { isInt32, isStorableText } from '../domain/input-rules';
import { isPlainObject } from '../domain/json';

/** One piece of evidence from Meta about one of our outbound messages. */
export interface WhatsAppFact {
  /** our outbound message's WhatsApp id (`wamid…`) */
  messageId: string;
  fact: DeliveryFact;
  /** from `biz_opaque_callback_data`, when the dispatcher set it to the campaign id */
  campaignId: string | null;
  /** E.164 of `recipient_id`, on statuses */
  recipient: string | null;
  /** the business number it went through (`value.metadata.phone_number_id`): names the workspace */
  phoneNumberId: string | null;
}

/** Why an item of a webhook was accepted but not applied. Counted, never answered with 4xx or 5xx. */
export type IgnoredReason =
  | 'unknown_status'
  | 'unlinked_message'
  | 'malformed_item'
  | 'other_field'
  | 'reaction_removed'
  /** a value the database cannot hold: U+0000 or a lone surrogate in text, an error code beyond int32 */
  | 'invalid_value'
  /** a change from a number bound to no workspace (or naming none): recorded nowhere */
  | 'unknown_phone_number';

export interface NormalizedWebhook {
  facts: WhatsAppFact[];
  ignored: Partial<Record<IgnoredReason, number>>;
}

type Json = Record<string, unknown>;
const isObject: (v: unknown) => v is Json = isPlainObject;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : null);
/** A value the database could not hold, anywhere the normalizer reads: the item is skipped. */
const unstorable = (v: unknown): boolean => typeof v === 'string' && !isStorableText(v);

const STATUS_EVIDENCE: Record<string, EvidenceKind> = {
  sent: 'SENT',
  delivered: 'DELIVERED',
  read: 'READ',
  failed: 'FAILED',
};

/** Meta's `recipient_id` is digits without `+`. */
function recipientOf(value: unknown): string | null {
  const digits = text(value);
  if (!digits) return null;
  const phone = digits.startsWith('+') ? digits : `+${digits}`;
  return isE164(phone) ? phone : null;
}

function errorOf(value: unknown): DeliveryError | undefined | 'invalid' {
  const first = list(value)[0];
  if (!isObject(first)) return undefined;
  // A code that is there but no int32 (2^40, 0.5, "131026") is unusable, not "no code".
  if (first.code !== undefined && !isInt32(first.code)) return 'invalid';
  if (first.code === undefined) return undefined;
  if (unstorable(first.title) || unstorable(first.message)) return 'invalid';
  const title = text(first.title) ?? text(first.message) ?? '';
  return { code: first.code, title: title.slice(0, 500) };
}

/** The evidence an inbound message gives about the message it answers, and that message's id. */
function inboundEvidence(message: Json): { messageId: string; evidence: EvidenceKind } | IgnoredReason {
  if (message.type === 'reaction') {
    const reaction = isObject(message.reaction) ? message.reaction : {};
    const messageId = text(reaction.message_id);
    if (!messageId) return 'unlinked_message';
    // An empty emoji removes a reaction: it says nothing new about the campaign message.
    return text(reaction.emoji) ? { messageId, evidence: 'REPLIED' } : 'reaction_removed';
  }
  const context = isObject(message.context) ? message.context : null;
  const messageId = context ? text(context.id) : null;
  if (!messageId) return 'unlinked_message';
  // Quick-reply buttons (`button`) and interactive replies (button_reply, list_reply) are taps.
  const tapped = message.type === 'button' || message.type === 'interactive';
  return { messageId, evidence: tapped ? 'CLICKED' : 'REPLIED' };
}

/**
 * Turns a WhatsApp Cloud API webhook into facts. Throws BAD_USER_INPUT when the body is not the
 * Cloud API shape at all; within a valid body, unknown statuses, unlinked messages and other
 * fields are skipped and counted (Meta adds kinds over time, and a 4xx would only make it retry).
 */
export function normalizeWhatsAppWebhook(body: unknown): NormalizedWebhook {
  if (!isObject(body) || body.object !== 'whatsapp_business_account' || !Array.isArray(body.entry)) {
    throw badInput('Not a WhatsApp Cloud API webhook: expected object "whatsapp_business_account" with entry[]');
  }
  const facts: WhatsAppFact[] = [];
  const ignored: Partial<Record<IgnoredReason, number>> = {};
  const ignore = (reason: IgnoredReason) => (ignored[reason] = (ignored[reason] ?? 0) + 1);

  for (const entry of body.entry) {
    if (!isObject(entry)) {
      ignore('malformed_item');
      continue;
    }
    for (const change of list(entry.changes)) {
      if (!isObject(change) || !isObject(change.value)) {
        ignore('malformed_item');
        continue;
      }
      if (change.field !== undefined && change.field !== 'messages') {
        ignore('other_field');
        continue;
      }
      const value = change.value;
      const metadata = isObject(value.metadata) ? value.metadata : {};
      const phoneNumberId = unstorable(metadata.phone_number_id) ? null : text(metadata.phone_number_id);
      for (const status of list(value.statuses)) {
        if (!isObject(status)) {
          ignore('malformed_item');
          continue;
        }
        if (unstorable(status.id) || unstorable(status.recipient_id) || unstorable(status.biz_opaque_callback_data)) {
          ignore('invalid_value');
          continue;
        }
        const messageId = text(status.id);
        const at = parseEventTime(status.timestamp);
        const evidence = typeof status.status === 'string' ? STATUS_EVIDENCE[status.status] : undefined;
        if (!messageId || !at) {
          ignore('malformed_item');
          continue;
        }
        if (!evidence) {
          ignore('unknown_status');
          continue;
        }
        const error = evidence === 'FAILED' ? errorOf(status.errors) : undefined;
        if (error === 'invalid') {
          ignore('invalid_value');
          continue;
        }
        const callback = status.biz_opaque_callback_data;
        facts.push({
          messageId,
          fact: { evidence, at, ...(error ? { error } : {}) },
          campaignId: isCampaignId(callback) ? callback : null,
          recipient: recipientOf(status.recipient_id),
          phoneNumberId,
        });
      }
      for (const message of list(value.messages)) {
        if (!isObject(message)) {
          ignore('malformed_item');
          continue;
        }
        const context = isObject(message.context) ? message.context : {};
        const reaction = isObject(message.reaction) ? message.reaction : {};
        if (unstorable(context.id) || unstorable(reaction.message_id)) {
          ignore('invalid_value');
          continue;
        }
        const at = parseEventTime(message.timestamp);
        const linked = inboundEvidence(message);
        if (!at) {
          ignore('malformed_item');
          continue;
        }
        if (typeof linked === 'string') {
          ignore(linked);
          continue;
        }
        facts.push({
          messageId: linked.messageId,
          fact: { evidence: linked.evidence, at },
          campaignId: null,
          recipient: null,
          phoneNumberId,
        });
      }
    }
  }
  return { facts, ignored };
}
