import fc from 'fast-check';
import { campaignStats } from '../../src/domain/campaign-stats';
import type { CampaignRecord } from '../../src/domain/campaign-stats';
import {
  CampaignChange,
  contactChange,
  emptyContactState,
  failureReasonOf,
  joinFact,
} from '../../src/domain/contact-state';
import type { ContactState } from '../../src/domain/contact-state';
import type { DeliveryFact } from '../../src/domain/delivery-event';
import { Evidence } from '../../src/domain/delivery-lattice';
import type { ModelFact } from '../support/lattice-model';
import * as model from '../support/lattice-model';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);

const factArb: fc.Arbitrary<ModelFact> = fc
  .record({
    kind: fc.constantFrom(...model.KINDS),
    at: fc.integer({ min: 0, max: 50 }).map((m) => new Date(Date.UTC(2026, 5, 15, 10, m))),
    error: fc.option(
      fc.record({ code: fc.constantFrom(131026, 131049, 131000, 470), title: fc.constantFrom('A', 'B') }),
      { nil: undefined },
    ),
  })
  .map(({ kind, at, error }) => (kind === 'FAILED' && error ? { kind, at, error } : { kind, at }));

/** facts for several contacts: [contact index, fact] */
const batchArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 7 }), factArb), { maxLength: 80 });

/** The implementation's reading of a model fact. */
function deliveryFact(fact: ModelFact): DeliveryFact {
  return { evidence: fact.kind, at: fact.at, ...(fact.error ? { error: fact.error } : {}) };
}

function fold(facts: readonly ModelFact[], from: ContactState = emptyContactState()): ContactState {
  return facts.map(deliveryFact).reduce(joinFact, from);
}

/** The implementation's state pictured as the model pictures its own (flags decoded kind by kind). */
function describeState(state: ContactState) {
  const kinds = model.KINDS.filter((kind) => (state.flags & Evidence[kind]) !== 0);
  return {
    kinds,
    firstAt: Object.fromEntries(
      model.KINDS.filter((kind) => state.firstAt[kind] !== undefined).map((kind) => [
        kind,
        state.firstAt[kind]!.toISOString(),
      ]),
    ),
    failure: state.failure && {
      code: state.failure.code,
      title: state.failure.title,
      at: state.failure.at.toISOString(),
    },
  };
}

/** Per contact, the implementation's states after applying `facts` split into `batches`, and the change summed. */
function applyInBatches(facts: readonly (readonly [number, ModelFact])[], batches: number) {
  const states = new Map<number, ContactState>();
  const total = new CampaignChange();
  const size = Math.ceil(facts.length / batches) || 1;
  for (let i = 0; i < facts.length; i += size) {
    const byContact = new Map<number, ModelFact[]>();
    for (const [contact, fact] of facts.slice(i, i + size)) {
      byContact.set(contact, [...(byContact.get(contact) ?? []), fact]);
    }
    for (const [contact, contactFacts] of byContact) {
      const before = states.get(contact) ?? emptyContactState();
      const after = fold(contactFacts, before);
      total.add(contactChange(before, after));
      states.set(contact, after);
    }
  }
  return { states, total };
}

describe('a contact state holds what the model of docs/lattice.md says', () => {
  it('any order and any repeats of the same facts end in the state of the model', () => {
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
        ([facts, shuffledWithRepeats]) => {
          const expected = model.contactOf(facts);
          for (const state of [fold(facts), fold(shuffledWithRepeats)]) {
            expect(describeState(state)).toEqual(model.describeContact(expected));
            expect(failureReasonOf(state)).toEqual(model.failureReasonOf(expected));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('keeps the earliest time of each flag', () => {
    const late: ModelFact = { kind: 'SENT', at: new Date('2026-06-15T10:30:00Z') };
    const early: ModelFact = { kind: 'SENT', at: new Date('2026-06-15T10:05:00Z') };
    expect(fold([late, early]).firstAt.SENT).toEqual(early.at);
    expect(fold([early, late]).firstAt.SENT).toEqual(early.at);
  });

  it('keeps the earliest failure reason, and none once the message reached the phone', () => {
    const a: ModelFact = { kind: 'FAILED', at: new Date(2000), error: { code: 2, title: 'late' } };
    const b: ModelFact = { kind: 'FAILED', at: new Date(1000), error: { code: 1, title: 'early' } };
    expect(failureReasonOf(fold([a, b]))).toEqual({ code: 1, title: 'early' });
    expect(failureReasonOf(fold([a, b, { kind: 'DELIVERED', at: new Date(3000) }]))).toBeNull();
    expect(failureReasonOf(fold([{ kind: 'FAILED', at: new Date(1) }]))).toEqual({
      code: 0,
      title: 'Unknown error',
    });
  });
});

describe('incremental counters equal the model (the stored-counter invariant, in pure code)', () => {
  it('applying batches in any split and order gives the counters and failure reasons of the model', () => {
    fc.assert(
      fc.property(batchArb, fc.integer({ min: 1, max: 5 }), (facts, batches) => {
        const { total } = applyInBatches(facts, batches);
        const contacts = [...model.contactsOf(facts).values()];
        const expected = model.countCampaign(contacts);
        expect(total.counters).toEqual({
          touched: expected.total - expected.pending,
          sent: expected.sent,
          delivered: expected.delivered,
          read: expected.read,
          clicked: expected.clicked,
          replied: expected.replied,
          failed: expected.failed,
        });
        const got = new Map(
          [...total.failureReasons].filter(([, r]) => r.count !== 0).map(([code, r]) => [code, r.count]),
        );
        expect(got).toEqual(model.failureReasons(contacts));
      }),
      { numRuns: RUNS },
    );
  });

  it('the stats of a campaign, pending and success included, are the counts of the model', () => {
    fc.assert(
      fc.property(batchArb, fc.integer({ min: 8, max: 12 }), (facts, totalContacts) => {
        const { total } = applyInBatches(facts, 2);
        const record: CampaignRecord = {
          id: '507f1f77bcf86cd799439060',
          name: 'model',
          status: 'running',
          createdAt: new Date(0),
          scheduledAt: null,
          startedAt: null,
          completedAt: null,
          counters: { ...total.counters, totalContacts, updatedAt: new Date(0) },
        };
        const stats = campaignStats(record);
        const expected = model.countCampaign(model.contactsOf(facts).values(), totalContacts);
        const { successCount, ...rest } = stats;
        expect(rest).toMatchObject({
          totalContacts: expected.total,
          sentCount: expected.sent,
          deliveredCount: expected.delivered,
          readCount: expected.read,
          clickedCount: expected.clicked,
          repliedCount: expected.replied,
          failedCount: expected.failed,
          pendingCount: expected.pending,
        });
        // Last, so that a miss here says success alone is off: sent and not failed (docs/lattice.md).
        expect(successCount).toBe(expected.success);
      }),
      { numRuns: RUNS },
    );
  });
});
