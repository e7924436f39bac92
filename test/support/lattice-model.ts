/**
 * The oracle of every property test: docs/lattice.md written out as plainly as possible, from the
 * contract's table alone. It imports nothing from src/ on purpose: a test that asks the
 * implementation's own functions for the expected answer cannot catch a mistake in them.
 *
 * A contact's state is computed from the whole multiset of facts about it (a set of kinds, a
 * minimum per kind, a minimum failure), never folded one fact at a time, so order and repeats
 * cannot matter here by construction; the implementation has to earn that property.
 */

/** The evidence kinds of docs/lattice.md. */
export const KINDS = ['SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED', 'FAILED'] as const;
export type Kind = (typeof KINDS)[number];

/** A WhatsApp error as reported on a failed status. */
export interface ModelError {
  code: number;
  title: string;
}

/** One event about one contact: its kind, its time, and on FAILED the error when one was given. */
export interface ModelFact {
  kind: Kind;
  at: Date;
  error?: ModelError;
}

export interface ModelContact {
  /** every kind seen at least once */
  kinds: Set<Kind>;
  /** the earliest time seen for each kind in `kinds`, in ms */
  firstAt: Map<Kind, number>;
  /** the failure with the earliest time among the FAILED facts that carried an error */
  failure: (ModelError & { at: number }) | null;
}

/**
 * The order failures reported at the same instant are kept in. The contract asks only that the
 * result not depend on arrival order; it names no tie-break, so the model takes the gateway's
 * documented one (lower code, then lower title) to be comparable exactly.
 */
function failureOrder(a: ModelError & { at: number }, b: ModelError & { at: number }): number {
  return a.at - b.at || a.code - b.code || (a.title < b.title ? -1 : a.title > b.title ? 1 : 0);
}

/** What the gateway must know of one contact after these facts, in any order, with any repeats. */
export function contactOf(facts: readonly ModelFact[]): ModelContact {
  const kinds = new Set(facts.map((f) => f.kind));
  const firstAt = new Map<Kind, number>();
  for (const kind of kinds) {
    firstAt.set(kind, Math.min(...facts.filter((f) => f.kind === kind).map((f) => f.at.getTime())));
  }
  const failures = facts
    .filter((f) => f.kind === 'FAILED' && f.error !== undefined)
    .map((f) => ({ code: f.error!.code, title: f.error!.title, at: f.at.getTime() }))
    .sort(failureOrder);
  return { kinds, firstAt, failure: failures[0] ?? null };
}

/** Groups `[contact, fact]` pairs by contact and models each contact. */
export function contactsOf<K>(facts: Iterable<readonly [K, ModelFact]>): Map<K, ModelContact> {
  const byContact = new Map<K, ModelFact[]>();
  for (const [contact, fact] of facts) byContact.set(contact, [...(byContact.get(contact) ?? []), fact]);
  return new Map([...byContact].map(([contact, contactFacts]) => [contact, contactOf(contactFacts)]));
}

/** The stats fields of the table, each a number of contacts. */
export const FIELDS = ['sent', 'delivered', 'read', 'clicked', 'replied', 'failed', 'success', 'pending'] as const;
export type Field = (typeof FIELDS)[number];

/** Which fields a contact with these kinds counts in: the table of docs/lattice.md, row by row. */
export function countsIn(kinds: ReadonlySet<Kind>): Record<Field, boolean> {
  const any = (...of: Kind[]) => of.some((kind) => kinds.has(kind));
  const sent = any('SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED');
  const failed = kinds.has('FAILED') && !any('DELIVERED', 'READ', 'CLICKED', 'REPLIED');
  return {
    sent,
    delivered: any('DELIVERED', 'READ', 'CLICKED', 'REPLIED'),
    read: any('READ', 'CLICKED', 'REPLIED'),
    clicked: kinds.has('CLICKED'),
    replied: kinds.has('REPLIED'),
    failed,
    // Counted in sent and not in failed: the messages that went out and did not fail. Contacts not
    // yet sent are not successes, so this is not `total - failed`.
    success: sent && !failed,
    pending: kinds.size === 0,
  };
}

export type ModelCounts = Record<Field, number> & { total: number };

/**
 * A campaign's counts. `contacts` are the modelled contacts; a campaign of `total` contacts has
 * `total - contacts.length` more that no fact named (pending).
 */
export function countCampaign(contacts: Iterable<ModelContact>, total?: number): ModelCounts {
  const list = [...contacts];
  const counts = { total: total ?? list.length } as ModelCounts;
  for (const field of FIELDS) counts[field] = list.filter((c) => countsIn(c.kinds)[field]).length;
  counts.pending += counts.total - list.length;
  return counts;
}

/**
 * The failure a contact counts under in the breakdown, or null when it is not counted as failed.
 * A failed contact whose senders never said why counts under code 0 (the gateway's "Unknown
 * error"), so that the breakdown adds up to `failed`.
 */
export function failureReasonOf(contact: ModelContact): ModelError | null {
  if (!countsIn(contact.kinds).failed) return null;
  return contact.failure
    ? { code: contact.failure.code, title: contact.failure.title }
    : { code: 0, title: 'Unknown error' };
}

/** Failed contacts per error code. */
export function failureReasons(contacts: Iterable<ModelContact>): Map<number, number> {
  const reasons = new Map<number, number>();
  for (const contact of contacts) {
    const reason = failureReasonOf(contact);
    if (reason) reasons.set(reason.code, (reasons.get(reason.code) ?? 0) + 1);
  }
  return reasons;
}

/** A plain, comparable picture of a contact: kinds in table order, times as ISO strings. */
export function describeContact(contact: ModelContact) {
  const seen = KINDS.filter((kind) => contact.kinds.has(kind));
  return {
    kinds: seen,
    firstAt: Object.fromEntries(seen.map((kind) => [kind, new Date(contact.firstAt.get(kind)!).toISOString()])),
    failure: contact.failure && {
      code: contact.failure.code,
      title: contact.failure.title,
      at: new Date(contact.failure.at).toISOString(),
    },
  };
}

/** The event types of the dispatcher (docs/rest.md) and the kind each proves. */
export const KIND_OF_DISPATCHER_TYPE = {
  'message.sent': 'SENT',
  'message.delivered': 'DELIVERED',
  'message.read': 'READ',
  'message.clicked': 'CLICKED',
  'message.failed': 'FAILED',
  'message.reply': 'REPLIED',
} as const satisfies Record<string, Kind>;
export type DispatcherType = keyof typeof KIND_OF_DISPATCHER_TYPE;
export const DISPATCHER_TYPES = Object.keys(KIND_OF_DISPATCHER_TYPE) as DispatcherType[];
