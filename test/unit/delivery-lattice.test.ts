import fc from 'fast-check';
import {
  Evidence,
  counterDelta,
  countersOfContact,
  recount,
  stageOf,
  succeeded,
  zeroCounters,
  addCounters,
} from '../../src/domain/delivery-lattice';
import type { ContactStage, EvidenceKind } from '../../src/domain/delivery-lattice';
import * as model from '../support/lattice-model';

const flagsOf = (...kinds: EvidenceKind[]) => kinds.reduce((f, k) => f | Evidence[k], 0);

describe('which counters a contact counts in (docs/lattice.md)', () => {
  // [flags, touched, sent, delivered, read, clicked, replied, failed]
  const table: [EvidenceKind[], number, number, number, number, number, number, number][] = [
    [[], 0, 0, 0, 0, 0, 0, 0],
    [['SENT'], 1, 1, 0, 0, 0, 0, 0],
    [['DELIVERED'], 1, 1, 1, 0, 0, 0, 0],
    [['READ'], 1, 1, 1, 1, 0, 0, 0],
    [['CLICKED'], 1, 1, 1, 1, 1, 0, 0],
    [['REPLIED'], 1, 1, 1, 1, 0, 1, 0],
    [['FAILED'], 1, 0, 0, 0, 0, 0, 1],
    [['SENT', 'FAILED'], 1, 1, 0, 0, 0, 0, 1],
    [['FAILED', 'DELIVERED'], 1, 1, 1, 0, 0, 0, 0],
    [['FAILED', 'READ'], 1, 1, 1, 1, 0, 0, 0],
    [['FAILED', 'CLICKED'], 1, 1, 1, 1, 1, 0, 0],
    [['FAILED', 'REPLIED'], 1, 1, 1, 1, 0, 1, 0],
    [['SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED', 'FAILED'], 1, 1, 1, 1, 1, 1, 0],
  ];
  it.each(table)('%j', (kinds, touched, sent, delivered, read, clicked, replied, failed) => {
    expect(countersOfContact(flagsOf(...kinds))).toEqual({ touched, sent, delivered, read, clicked, replied, failed });
  });
});

/** Every set of kinds (64 of them), with its flags as the implementation stores them. */
const allKindSets = Array.from({ length: 2 ** model.KINDS.length }, (_, bits) => {
  const kinds = model.KINDS.filter((_, i) => bits & (1 << i));
  return { kinds, flags: flagsOf(...kinds) };
});

/** The implementation's per-contact counters, as the model counts a contact with these kinds. */
function modelCounters(kinds: readonly model.Kind[]) {
  const counts = model.countsIn(new Set(kinds));
  return {
    touched: counts.pending ? 0 : 1,
    sent: +counts.sent,
    delivered: +counts.delivered,
    read: +counts.read,
    clicked: +counts.clicked,
    replied: +counts.replied,
    failed: +counts.failed,
  };
}

describe('the furthest stage a contact reached', () => {
  const table: [EvidenceKind[], ContactStage][] = [
    [[], 'PENDING'],
    [['SENT'], 'SENT'],
    [['DELIVERED'], 'DELIVERED'],
    [['SENT', 'READ'], 'READ'],
    [['SENT', 'DELIVERED', 'READ', 'CLICKED'], 'CLICKED'],
    [['SENT', 'DELIVERED', 'READ', 'REPLIED'], 'REPLIED'],
    // a reply is the stronger signal: a contact that clicked and replied shows as REPLIED
    [['SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED'], 'REPLIED'],
    [['FAILED'], 'FAILED'],
    [['SENT', 'FAILED'], 'FAILED'],
    // delivered on another device: it did not drop out
    [['SENT', 'FAILED', 'DELIVERED'], 'DELIVERED'],
    [['FAILED', 'CLICKED'], 'CLICKED'],
  ];
  it.each(table)('%j is %s', (kinds, stage) => {
    expect(stageOf(flagsOf(...kinds))).toBe(stage);
  });
});

describe('success: counted in sent and not in failed', () => {
  it('per contact, over every flag set, equals touched - failed', () => {
    for (let flags = 0; flags < 64; flags++) {
      const c = countersOfContact(flags);
      expect([flags, succeeded(c)]).toEqual([flags, c.sent === 1 && c.failed === 0 ? 1 : 0]);
    }
  });

  it('a contact that failed before it was sent is neither sent nor a success', () => {
    const c = recount([flagsOf('FAILED'), flagsOf('SENT', 'FAILED'), flagsOf('SENT'), 0]);
    expect(c).toMatchObject({ touched: 3, sent: 2, failed: 2 });
    expect(succeeded(c)).toBe(1);
  });
});

describe('invariants over every flag set', () => {
  const allFlagSets = allKindSets.map((s) => s.flags);

  it('every set of kinds counts where the model of the table says', () => {
    for (const { kinds, flags } of allKindSets) {
      expect([kinds, countersOfContact(flags)]).toEqual([kinds, modelCounters(kinds)]);
    }
  });

  it('sent >= delivered >= read >= clicked, read >= replied, delivered + failed <= 1', () => {
    for (const flags of allFlagSets) {
      const c = countersOfContact(flags);
      expect(c.sent).toBeGreaterThanOrEqual(c.delivered);
      expect(c.delivered).toBeGreaterThanOrEqual(c.read);
      expect(c.read).toBeGreaterThanOrEqual(c.clicked);
      expect(c.read).toBeGreaterThanOrEqual(c.replied);
      expect(c.delivered + c.failed).toBeLessThanOrEqual(1);
      expect(c.touched).toBe(flags === 0 ? 0 : 1);
    }
  });

  it('the delta between two sets of kinds is the difference of their counts in the model', () => {
    for (const before of allKindSets) {
      for (const after of allKindSets) {
        const from = modelCounters(before.kinds);
        const to = modelCounters(after.kinds);
        const expected = Object.fromEntries(Object.entries(to).map(([k, n]) => [k, n - from[k as keyof typeof from]]));
        expect(counterDelta(before.flags, after.flags)).toEqual(expected);
        expect(addCounters(countersOfContact(before.flags), counterDelta(before.flags, after.flags))).toEqual(to);
      }
    }
  });

  it('adding evidence never lowers sent, delivered, read, clicked, replied or touched', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 63 }), (a, b) => {
        const d = counterDelta(a, a | b);
        return d.touched >= 0 && d.sent >= 0 && d.delivered >= 0 && d.read >= 0 && d.clicked >= 0 && d.replied >= 0;
      }),
    );
  });

  it('recount sums the contacts', () => {
    expect(recount([])).toEqual(zeroCounters());
    expect(recount([flagsOf('SENT'), flagsOf('FAILED'), 0])).toEqual({
      touched: 2,
      sent: 1,
      delivered: 0,
      read: 0,
      clicked: 0,
      replied: 0,
      failed: 1,
    });
  });
});
