import type { ContactStage, DeliveryCounters, EvidenceKind } from '../../src/domain/delivery-lattice';
import { CONTACT_STAGES, Evidence, countersOfContact, stageOf, succeeded } from '../../src/domain/delivery-lattice';
import { countsInSql, stageSql } from '../../src/store/lattice.sql';
import { openTestDatabase } from '../support/database';

// The oracle: DESIGN section 1's table, written again here from the contract's words. Only the
// bit of each kind comes from src (the storage encoding); no rule does.
const has = (flags: number, ...kinds: EvidenceKind[]) => kinds.some((kind) => (flags & Evidence[kind]) !== 0);

interface ModelContact extends Record<keyof DeliveryCounters, boolean> {
  success: boolean;
  stage: ContactStage;
}

function model(flags: number): ModelContact {
  const sent = has(flags, 'SENT', 'DELIVERED', 'READ', 'CLICKED', 'REPLIED');
  const delivered = has(flags, 'DELIVERED', 'READ', 'CLICKED', 'REPLIED');
  // a click or a reply proves the message was seen
  const read = has(flags, 'READ', 'CLICKED', 'REPLIED');
  const clicked = has(flags, 'CLICKED');
  const replied = has(flags, 'REPLIED');
  // a contact that reached the phone did not drop out
  const failed = has(flags, 'FAILED') && !delivered;
  const touched = flags !== 0; // pending: no flag at all yet
  // furthest stage reached: PENDING < SENT < DELIVERED < READ < CLICKED < REPLIED; FAILED apart
  const stage: ContactStage = failed
    ? 'FAILED'
    : replied
      ? 'REPLIED'
      : clicked
        ? 'CLICKED'
        : read
          ? 'READ'
          : delivered
            ? 'DELIVERED'
            : sent
              ? 'SENT'
              : 'PENDING';
  return { touched, sent, delivered, read, clicked, replied, failed, success: sent && !failed, stage };
}

const COUNTERS: (keyof DeliveryCounters)[] = ['touched', 'sent', 'delivered', 'read', 'clicked', 'replied', 'failed'];
const ALL_FLAG_SETS = Array.from({ length: 64 }, (_, flags) => flags);

describe('the lattice in SQL equals the lattice in TypeScript, over all 64 flag sets', () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  beforeAll(async () => {
    database = await openTestDatabase(2);
  });
  afterAll(() => database.close());

  it('the model of the contract agrees with the implementation', () => {
    for (const flags of ALL_FLAG_SETS) {
      const expected = model(flags);
      const counters = countersOfContact(flags);
      expect([flags, counters]).toEqual([
        flags,
        Object.fromEntries(COUNTERS.map((name) => [name, expected[name] ? 1 : 0])),
      ]);
      expect([flags, stageOf(flags)]).toEqual([flags, expected.stage]);
      // success_count from the counters, per contact (sums of contacts add up the same way)
      expect([flags, succeeded(counters)]).toEqual([flags, expected.success ? 1 : 0]);
    }
  });

  it('each SQL function gives what the model gives', async () => {
    const rows: (Record<keyof DeliveryCounters, boolean> & { flags: number; stage: string })[] =
      await database.db.query(
        `SELECT f AS flags, ${COUNTERS.map((name) => `lattice_counts_${name}(f::smallint) AS ${name}`).join(', ')},
                lattice_stage(f::smallint) AS stage
         FROM generate_series(0, 63) AS f ORDER BY f`,
      );
    expect(rows.map((row) => row.flags)).toEqual(ALL_FLAG_SETS);
    for (const row of rows) {
      const expected = model(row.flags);
      const { flags, stage, ...counters } = row;
      expect([flags, counters]).toEqual([flags, Object.fromEntries(COUNTERS.map((name) => [name, expected[name]]))]);
      expect([flags, stage]).toEqual([flags, expected.stage]);
    }
    // every stage is reached by some flag set, and no other text comes out
    expect(new Set(rows.map((row) => row.stage))).toEqual(new Set(CONTACT_STAGES));
  });

  it('the SQL helpers call those functions', () => {
    expect(countsInSql('failed')).toBe('lattice_counts_failed(flags)');
    expect(countsInSql('sent', 'c.flags')).toBe('lattice_counts_sent(c.flags)');
    expect(stageSql()).toBe('lattice_stage(flags)');
  });

  it('are immutable, parallel safe SQL functions of smallint that the planner inlines', async () => {
    const functions: { name: string; args: string; volatile: string; parallel: string; language: string }[] =
      await database.db.query(
        `SELECT p.proname AS name, pg_get_function_identity_arguments(p.oid) AS args, p.provolatile AS volatile,
                p.proparallel AS parallel, l.lanname AS language
         FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
         WHERE p.proname LIKE 'lattice\\_%' ORDER BY 1`,
      );
    expect(functions.map((f) => f.name)).toEqual(
      [...COUNTERS.map((name) => `lattice_counts_${name}`), 'lattice_stage'].sort(),
    );
    for (const f of functions) {
      expect(f).toMatchObject({ args: 'flags smallint', volatile: 'i', parallel: 's', language: 'sql' });
    }
    // Inlined: the plan shows the bit tests themselves, and no call of a lattice function.
    const plan: { 'QUERY PLAN': string }[] = await database.db.query(
      `EXPLAIN (VERBOSE, COSTS OFF)
       SELECT ${COUNTERS.map((name) => `count(*) FILTER (WHERE lattice_counts_${name}(flags))`).join(', ')},
              count(*) FILTER (WHERE lattice_stage(flags) = 'READ')
       FROM campaign_contacts WHERE campaign_id = '507f1f77bcf86cd799439060'`,
    );
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).not.toContain('lattice_');
    expect(text).toMatch(/\(flags\)::integer & 30\) = 0/);
  });
});
