import type { DeliveryCounters, EvidenceFlags, EvidenceKind } from './delivery-lattice';
import { Evidence, addCounters, counterDelta, countsAsFailed, zeroCounters } from './delivery-lattice';
import type { DeliveryError, DeliveryFact } from './delivery-event';

/** The failure kept for a contact: the earliest reported error (ties: the lower code). */
export interface RecordedFailure extends DeliveryError {
  at: Date;
}

/** What the gateway knows of one contact: its evidence, when each piece was first seen, why it failed. */
export interface ContactState {
  flags: EvidenceFlags;
  firstAt: Partial<Record<EvidenceKind, Date>>;
  failure: RecordedFailure | null;
}

export function emptyContactState(): ContactState {
  return { flags: 0, firstAt: {}, failure: null };
}

/** Code and title reported for a failed contact whose sender gave no error. */
export const UNKNOWN_FAILURE: DeliveryError = { code: 0, title: 'Unknown error' };

function earlierFailure(a: RecordedFailure | null, b: RecordedFailure): RecordedFailure {
  if (a === null) return b;
  const byTime = a.at.getTime() - b.at.getTime();
  if (byTime !== 0) return byTime < 0 ? a : b;
  if (a.code !== b.code) return a.code < b.code ? a : b;
  return a.title <= b.title ? a : b;
}

/**
 * Joins one fact into a contact state. A join in the lattice sense: commutative, associative and
 * idempotent, so any order and any number of repeats of the same facts end in the same state.
 */
export function joinFact(state: ContactState, fact: DeliveryFact): ContactState {
  const flag = Evidence[fact.evidence];
  const seen = state.firstAt[fact.evidence];
  const firstAt =
    seen === undefined || fact.at.getTime() < seen.getTime()
      ? { ...state.firstAt, [fact.evidence]: fact.at }
      : state.firstAt;
  const failure =
    fact.evidence === 'FAILED' && fact.error
      ? earlierFailure(state.failure, { ...fact.error, at: fact.at })
      : state.failure;
  return { flags: state.flags | flag, firstAt, failure };
}

/** The failure reason a contact counts under, or null when it does not count as failed. */
export function failureReasonOf(state: ContactState): DeliveryError | null {
  if (!countsAsFailed(state.flags)) return null;
  return state.failure ? { code: state.failure.code, title: state.failure.title } : UNKNOWN_FAILURE;
}

/** How one contact's change moves its campaign: counters, and failure reasons by code. */
export interface ContactChange {
  counters: DeliveryCounters;
  /** per WhatsApp error code: +1 / -1 contacts, with the title to show */
  failureReasons: Map<number, { title: string; count: number }>;
}

export function contactChange(before: ContactState, after: ContactState): ContactChange {
  const failureReasons = new Map<number, { title: string; count: number }>();
  const was = failureReasonOf(before);
  const is = failureReasonOf(after);
  if (was && !(is && is.code === was.code)) failureReasons.set(was.code, { title: was.title, count: -1 });
  if (is && !(was && was.code === is.code)) failureReasons.set(is.code, { title: is.title, count: 1 });
  return { counters: counterDelta(before.flags, after.flags), failureReasons };
}

/** Whether a join changed anything that is stored. */
export function sameContactState(a: ContactState, b: ContactState): boolean {
  if (a.flags !== b.flags) return false;
  for (const kind of Object.keys(Evidence) as EvidenceKind[]) {
    if (a.firstAt[kind]?.getTime() !== b.firstAt[kind]?.getTime()) return false;
  }
  const fa = a.failure;
  const fb = b.failure;
  if (fa === null || fb === null) return fa === fb;
  return fa.code === fb.code && fa.title === fb.title && fa.at.getTime() === fb.at.getTime();
}

/** The sum of many contacts' changes, per campaign: what one committed batch does to the counters. */
export class CampaignChange {
  readonly counters = zeroCounters();
  readonly failureReasons = new Map<number, { title: string; count: number }>();

  add(change: ContactChange): void {
    addCounters(this.counters, change.counters);
    for (const [code, { title, count }] of change.failureReasons) {
      const prior = this.failureReasons.get(code);
      this.failureReasons.set(code, {
        title: count > 0 || !prior ? title : prior.title,
        count: (prior?.count ?? 0) + count,
      });
    }
  }
}
