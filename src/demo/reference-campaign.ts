import type { DispatcherEventType } from '../domain/delivery-event';

/** The numbers of the reference example (docs/rest.md). */
export const REFERENCE_NUMBERS = {
  total_contacts: 2000,
  sent_count: 1998,
  delivered_count: 1932,
  read_count: 1204,
  clicked_count: 312,
  failed_count: 2,
  replied_count: 41,
  success_count: 1998,
} as const;

export interface ReferenceEvent {
  type: DispatcherEventType;
  contact: string;
  timestamp: string;
  error?: { code: number; title: string };
}

/**
 * The reference campaign as contacts and dispatcher events that end at exactly
 * {@link REFERENCE_NUMBERS}, with the awkward cases real traffic has: reads with no `delivered`
 * (Meta skips it), `delivered` after `failed` (several devices), and clicks and replies.
 * Deterministic; callers shuffle and duplicate it as they like.
 */
export function referenceCampaign(): { contacts: string[]; events: ReferenceEvent[] } {
  const contacts = Array.from({ length: 2000 }, (_, i) => `+1415555${String(i).padStart(4, '0')}`);
  const events: ReferenceEvent[] = [];
  const base = Date.parse('2026-06-15T10:05:00Z');
  const at = (i: number, minutes: number) => new Date(base + minutes * 60_000 + i * 1000).toISOString();
  const add = (i: number, type: DispatcherEventType, minutes: number, error?: ReferenceEvent['error']) =>
    events.push({ type, contact: contacts[i]!, timestamp: at(i, minutes), ...(error ? { error } : {}) });

  // 0-1: never reached the phone.
  add(0, 'message.failed', 1, { code: 131026, title: 'Message undeliverable' });
  add(1, 'message.failed', 1, { code: 131049, title: 'Meta chose not to deliver' });
  for (let i = 2; i < 2000; i++) {
    add(i, 'message.sent', 0);
    const k = i - 2; // 0..1997
    if (k >= 1932) continue; // 66 sent, never delivered
    // Every 50th delivered contact also reported failed on another device first: still delivered.
    if (k % 50 === 0) add(i, 'message.failed', 2, { code: 131000, title: 'Something went wrong' });
    // Meta may skip `delivered` when the message is read at once.
    if (!(k < 1204 && k % 7 === 0)) add(i, 'message.delivered', 3);
    if (k >= 1204) continue; // 728 delivered, not read
    if (k < 300) add(i, 'message.read', 5);
    else if (k < 312) add(i, 'message.read', 6);
    else add(i, 'message.read', 7);
    if (k < 312) add(i, 'message.clicked', 9); // a click proves a read
    if (k >= 290 && k < 331) add(i, 'message.reply', 12); // 41 replies, 22 of them from clickers
  }
  return { contacts, events };
}
