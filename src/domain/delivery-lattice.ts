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

/** Evidence that proves the message went out: the contact counts in `sent`. */
export const PROVES_SENT = Evidence.SENT | Evidence.DELIVERED | Evidence.READ | Evidence.CLICKED | Evidence.REPLIED;
/** Evidence that proves the message reached the phone: the contact counts in `delivered`. */
export const PROVES_DELIVERED = Evidence.DELIVERED | Evidence.READ | Evidence.CLICKED | Evidence.REPLIED;
/** Evidence that proves the message was seen (a click or a reply proves a read). */
export const PROVES_READ = Evidence.READ | Evidence.CLICKED | Evidence.REPLIED;
/** Every flag: a contact holding any of them is no longer pending. */
export const ANY_EVIDENCE = PROVES_SENT | Evidence.FAILED;

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

/**
 * What a contact's flags must hold to count in each counter: at least one flag of `anyOf` and no
 * flag of `noneOf`. The one statement of DESIGN section 1's table: the TypeScript below and the SQL
 * functions of the LatticeFunctions migration are both made from it.
 */
export const COUNTER_RULES: Readonly<Record<keyof DeliveryCounters, { anyOf: number; noneOf: number }>> = {
  touched: { anyOf: ANY_EVIDENCE, noneOf: 0 },
  sent: { anyOf: PROVES_SENT, noneOf: 0 },
  delivered: { anyOf: PROVES_DELIVERED, noneOf: 0 },
  read: { anyOf: PROVES_READ, noneOf: 0 },
  clicked: { anyOf: Evidence.CLICKED, noneOf: 0 },
  replied: { anyOf: Evidence.REPLIED, noneOf: 0 },
  // a contact that reached the phone did not drop out, whatever else a device reported
  failed: { anyOf: Evidence.FAILED, noneOf: PROVES_DELIVERED },
};

/** Whether a contact whose flags hold `flags` counts in `counter`. */
export function countsIn(counter: keyof DeliveryCounters, flags: EvidenceFlags): boolean {
  const rule = COUNTER_RULES[counter];
  return (flags & rule.anyOf) !== 0 && (flags & rule.noneOf) === 0;
}

/** Whether a contact whose flags hold `flags` counts as failed: it failed and never reached the phone. */
export function countsAsFailed(flags: EvidenceFlags): boolean {
  return countsIn('failed', flags);
}

/** The counters one contact contributes to: each 0 or 1. */
export function countersOfContact(flags: EvidenceFlags): DeliveryCounters {
  return {
    touched: countsIn('touched', flags) ? 1 : 0,
    sent: countsIn('sent', flags) ? 1 : 0,
    delivered: countsIn('delivered', flags) ? 1 : 0,
    read: countsIn('read', flags) ? 1 : 0,
    clicked: countsIn('clicked', flags) ? 1 : 0,
    replied: countsIn('replied', flags) ? 1 : 0,
    failed: countsIn('failed', flags) ? 1 : 0,
  };
}

/**
 * Where one contact stands: the furthest stage its flags prove, for the drill-down (DESIGN section
 * 12). Stages are exclusive, unlike counters: each contact is in exactly one.
 */
export type ContactStage = 'PENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'CLICKED' | 'REPLIED' | 'FAILED';

/**
 * The stages from the furthest down, each with the counter that puts a contact in it: a contact
 * is in the first stage whose counter it counts in, and PENDING when none.
 *
 * FAILED comes first: a contact counts as failed only when nothing proves it reached the phone,
 * so no later stage can hold it. REPLIED comes before CLICKED: both prove a read, but a reply is
 * the contact writing back in the conversation, a stronger signal than a tap on a button or a
 * link (and a contact that does both is shown once, as REPLIED; it still counts in both counters).
 */
export const STAGE_ORDER: readonly { stage: Exclude<ContactStage, 'PENDING'>; counter: keyof DeliveryCounters }[] = [
  { stage: 'FAILED', counter: 'failed' },
  { stage: 'REPLIED', counter: 'replied' },
  { stage: 'CLICKED', counter: 'clicked' },
  { stage: 'READ', counter: 'read' },
  { stage: 'DELIVERED', counter: 'delivered' },
  { stage: 'SENT', counter: 'sent' },
];

/** Every stage, from no outcome to the furthest (FAILED last, as in the GraphQL enum). */
export const CONTACT_STAGES: readonly ContactStage[] = [
  'PENDING',
  'SENT',
  'DELIVERED',
  'READ',
  'CLICKED',
  'REPLIED',
  'FAILED',
];

/** The furthest stage a contact's flags prove (see {@link STAGE_ORDER}). */
export function stageOf(flags: EvidenceFlags): ContactStage {
  for (const { stage, counter } of STAGE_ORDER) if (countsIn(counter, flags)) return stage;
  return 'PENDING';
}

/**
 * Contacts counted in `sent` and not in `failed` (DESIGN section 1's `success_count`), from the
 * stored counters. Exact, with no counter of its own: a contact that is touched but not sent holds
 * FAILED alone, so it counts as failed; a contact that is not failed but touched holds some flag
 * that proves it was sent. So {touched} \ {failed} is exactly {sent} \ {failed}, and since
 * failed contacts are all touched, the number is `touched - failed`.
 */
export function succeeded(counters: Pick<DeliveryCounters, 'touched' | 'failed'>): number {
  return counters.touched - counters.failed;
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
