import fc from 'fast-check';
import {
  CampaignChange,
  contactChange,
  emptyContactState,
  failureReasonOf,
  joinFact,
  sameContactState,
} from '../../src/domain/contact-state';
import type { ContactState } from '../../src/domain/contact-state';
import type { DeliveryFact } from '../../src/domain/delivery-event';
import {
  EVIDENCE_KINDS,
  countersOfContact,
  recount,
  addCounters,
  zeroCounters,
} from '../../src/domain/delivery-lattice';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

const factArb: fc.Arbitrary<DeliveryFact> = fc
  .record({
    evidence: fc.constantFrom(...EVIDENCE_KINDS),
    at: fc.integer({ min: 0, max: 50 }).map((m) => new Date(Date.UTC(2026, 5, 15, 10, m))),
    error: fc.option(
      fc.record({ code: fc.constantFrom(131026, 131049, 131000, 470), title: fc.constantFrom('A', 'B') }),
      { nil: undefined },
    ),
  })
  .map(({ evidence, at, error }) => (evidence === 'FAILED' && error ? { evidence, at, error } : { evidence, at }));

/** facts for several contacts: [contact index, fact] */
const batchArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), factArb), { maxLength: 80 });

function fold(facts: readonly DeliveryFact[]): ContactState {
  return facts.reduce(joinFact, emptyContactState());
}

describe('the contact state is a join semilattice', () => {
  it('any order and any repeats of the same facts end in the same state', () => {
    fc.assert(
      fc.property(
        fc
          .array(factArb, { maxLength: 30 })
          .chain((facts) =>
            fc.tuple(
              fc.constant(facts),
              fc.shuffledSubarray([...facts, ...facts], { minLength: 2 * facts.length, maxLength: 2 * facts.length }),
            ),
          ),
        ([facts, shuffledWithRepeats]) => sameContactState(fold(facts), fold(shuffledWithRepeats)),
      ),
      { numRuns: RUNS },
    );
  });

  it('keeps the earliest time of each flag', () => {
    const late = { evidence: 'SENT' as const, at: new Date('2026-06-15T10:30:00Z') };
    const early = { evidence: 'SENT' as const, at: new Date('2026-06-15T10:05:00Z') };
    expect(fold([late, early]).firstAt.SENT).toEqual(early.at);
    expect(fold([early, late]).firstAt.SENT).toEqual(early.at);
  });

  it('keeps the earliest failure reason, and none once the message reached the phone', () => {
    const a = { evidence: 'FAILED' as const, at: new Date(2000), error: { code: 2, title: 'late' } };
    const b = { evidence: 'FAILED' as const, at: new Date(1000), error: { code: 1, title: 'early' } };
    expect(failureReasonOf(fold([a, b]))).toEqual({ code: 1, title: 'early' });
    expect(failureReasonOf(fold([a, b, { evidence: 'DELIVERED', at: new Date(3000) }]))).toBeNull();
    expect(failureReasonOf(fold([{ evidence: 'FAILED', at: new Date(1) }]))).toEqual({
      code: 0,
      title: 'Unknown error',
    });
  });
});

describe('incremental counters equal a recount (the stored-counter invariant, in pure code)', () => {
  it('applying batches in any split and order gives the counters and reasons of a model', () => {
    fc.assert(
      fc.property(batchArb, fc.integer({ min: 1, max: 5 }), (facts, batches) => {
        // Incremental: split into batches, apply each as the gateway does, summing the changes.
        const states = new Map<number, ContactState>();
        const total = new CampaignChange();
        const size = Math.ceil(facts.length / batches) || 1;
        for (let i = 0; i < facts.length; i += size) {
          const byContact = new Map<number, DeliveryFact[]>();
          for (const [contact, fact] of facts.slice(i, i + size)) {
            byContact.set(contact, [...(byContact.get(contact) ?? []), fact]);
          }
          for (const [contact, contactFacts] of byContact) {
            const before = states.get(contact) ?? emptyContactState();
            const after = contactFacts.reduce(joinFact, before);
            total.add(contactChange(before, after));
            states.set(contact, after);
          }
        }
        // Model: every contact's facts folded from scratch, then counted.
        const model = new Map<number, ContactState>();
        for (const [contact, fact] of facts)
          model.set(contact, joinFact(model.get(contact) ?? emptyContactState(), fact));
        const expected = recount([...model.values()].map((s) => s.flags));
        expect(total.counters).toEqual(expected);
        const reasons = new Map<number, number>();
        for (const state of model.values()) {
          const reason = failureReasonOf(state);
          if (reason) reasons.set(reason.code, (reasons.get(reason.code) ?? 0) + 1);
        }
        const got = new Map(
          [...total.failureReasons].filter(([, r]) => r.count !== 0).map(([code, r]) => [code, r.count]),
        );
        expect(got).toEqual(reasons);
        // and the reasons add up to the failed count
        expect([...reasons.values()].reduce((a, b) => a + b, 0)).toBe(expected.failed);
      }),
      { numRuns: RUNS },
    );
  });

  it('counters of contacts sum like the recount', () => {
    const sum = addCounters(zeroCounters(), countersOfContact(3));
    expect(sum).toEqual(recount([3]));
  });
});
