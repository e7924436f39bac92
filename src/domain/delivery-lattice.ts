/**
 * The delivery lattice (docs/lattice.md): each contact holds a set of evidence flags, events OR
 * their flag in, and what the flags prove decides which counters the contact counts in.
 * Pure: no I/O, no framework imports.
 */

/** One bit per kind of evidence. Stored as a smallint bit set. */
export const Evidence = {
  SENT: 1,
  DELIVERED: 2,
  READ: 4,
  CLICKED: 8,
  REPLIED: 16,
  FAILED: 32,
} as const;

export type EvidenceKind = keyof typeof Evidence;
export const EVIDENCE_KINDS: readonly EvidenceKind[] = ['SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED', 'FAILED'];

/** A set of evidence flags, as a bit set of {@link Evidence}. */
export type EvidenceFlags = number;

const PROVES_SENT = Evidence.SENT | Evidence.DELIVERED | Evidence.READ | Evidence.CLICKED | Evidence.REPLIED;
const PROVES_DELIVERED = Evidence.DELIVERED | Evidence.READ | Evidence.CLICKED | Evidence.REPLIED;
const PROVES_READ = Evidence.READ | Evidence.CLICKED | Evidence.REPLIED;

/** The per-contact counters of a campaign, each a number of contacts. */
export interface DeliveryCounters {
  /** contacts with at least one flag (total minus this is pending) */
  touched: number;
  sent: number;
  delivered: number;
  read: number;
  clicked: number;
  replied: number;
  failed: number;
}

export const COUNTER_NAMES: readonly (keyof DeliveryCounters)[] = [
  'touched',
  'sent',
  'delivered',
  'read',
  'clicked',
  'replied',
  'failed',
];

export function zeroCounters(): DeliveryCounters {
  return { touched: 0, sent: 0, delivered: 0, read: 0, clicked: 0, replied: 0, failed: 0 };
}

/** Whether a contact whose flags hold `flags` counts as failed: it failed and never reached the phone. */
export function countsAsFailed(flags: EvidenceFlags): boolean {
  return (flags & Evidence.FAILED) !== 0 && (flags & PROVES_DELIVERED) === 0;
}

/** The counters one contact contributes to: each 0 or 1. */
export function countersOfContact(flags: EvidenceFlags): DeliveryCounters {
  return {
    touched: flags !== 0 ? 1 : 0,
    sent: flags & PROVES_SENT ? 1 : 0,
    delivered: flags & PROVES_DELIVERED ? 1 : 0,
    read: flags & PROVES_READ ? 1 : 0,
    clicked: flags & Evidence.CLICKED ? 1 : 0,
    replied: flags & Evidence.REPLIED ? 1 : 0,
    failed: countsAsFailed(flags) ? 1 : 0,
  };
}

/** How the campaign counters move when one contact's flags go from `before` to `after`. */
export function counterDelta(before: EvidenceFlags, after: EvidenceFlags): DeliveryCounters {
  const a = countersOfContact(before);
  const b = countersOfContact(after);
  return {
    touched: b.touched - a.touched,
    sent: b.sent - a.sent,
    delivered: b.delivered - a.delivered,
    read: b.read - a.read,
    clicked: b.clicked - a.clicked,
    replied: b.replied - a.replied,
    failed: b.failed - a.failed,
  };
}

/** Adds `delta` into `into`, in place, and returns it. */
export function addCounters(into: DeliveryCounters, delta: DeliveryCounters): DeliveryCounters {
  for (const name of COUNTER_NAMES) into[name] += delta[name];
  return into;
}

export function isZeroDelta(delta: DeliveryCounters): boolean {
  return COUNTER_NAMES.every((name) => delta[name] === 0);
}

/** Counts a whole campaign from its contacts' flags: the recount every stored counter must equal. */
export function recount(flagsOfContacts: Iterable<EvidenceFlags>): DeliveryCounters {
  const total = zeroCounters();
  for (const flags of flagsOfContacts) addCounters(total, countersOfContact(flags));
  return total;
}
