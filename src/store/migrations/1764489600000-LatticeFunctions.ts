import type { MigrationInterface, QueryRunner } from 'typeorm';
import type { DeliveryCounters } from '../../domain/delivery-lattice';
import { COUNTER_NAMES, COUNTER_RULES, STAGE_ORDER } from '../../domain/delivery-lattice';

// The delivery lattice in SQL, made from the TypeScript masks of src/domain (one source): every
// query that counts, recounts, filters or buckets contacts calls these instead of writing masks.
// Each is a one-expression, IMMUTABLE `LANGUAGE sql` function, so the planner inlines it into
// the calling query (no function call per row, and the expression stays visible to the planner).

/** The SQL test "a contact whose flags are `flags` counts in `counter`", from the domain's rule. */
function countsExpression(counter: keyof DeliveryCounters): string {
  const { anyOf, noneOf } = COUNTER_RULES[counter];
  const any = `(flags & ${anyOf}) <> 0`;
  return noneOf === 0 ? any : `${any} AND (flags & ${noneOf}) = 0`;
}

function stageExpression(): string {
  const cases = STAGE_ORDER.map(({ stage, counter }) => `WHEN ${countsExpression(counter)} THEN '${stage}'`);
  return `CASE ${cases.join(' ')} ELSE 'PENDING' END`;
}

// flags is campaign_contacts.flags: smallint.
const FUNCTIONS: { name: string; returns: string; body: string }[] = [
  ...COUNTER_NAMES.map((counter) => ({
    name: `lattice_counts_${counter}`,
    returns: 'boolean',
    body: countsExpression(counter),
  })),
  { name: 'lattice_stage', returns: 'text', body: stageExpression() },
];

/** One SQL function per stats counter (`lattice_counts_sent(flags)`, …) and `lattice_stage(flags)`. */
export class LatticeFunctions1764489600000 implements MigrationInterface {
  name = 'LatticeFunctions1764489600000';

  async up(q: QueryRunner): Promise<void> {
    for (const f of FUNCTIONS) {
      await q.query(`
        CREATE FUNCTION ${f.name}(flags smallint) RETURNS ${f.returns}
          LANGUAGE sql IMMUTABLE PARALLEL SAFE
          AS $$ SELECT ${f.body} $$`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const f of FUNCTIONS) await q.query(`DROP FUNCTION ${f.name}(smallint)`);
  }
}
