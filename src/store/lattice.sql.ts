import type { DeliveryCounters } from '../domain/delivery-lattice';
import { COUNTER_NAMES } from '../domain/delivery-lattice';

// Calls of the lattice's SQL functions (see the LatticeFunctions migration): the only way SQL in
// this code base says which contacts count where. No mask is ever written in SQL text.

/** SQL that is true when the contact whose flags are in `flags` counts in `counter`. */
export function countsInSql(counter: keyof DeliveryCounters, flags = 'flags'): string {
  return `lattice_counts_${counter}(${flags})`;
}

/** SQL giving the contact's furthest stage, as `ContactStage` text. */
export function stageSql(flags = 'flags'): string {
  return `lattice_stage(${flags})`;
}

/**
 * Select-list of a recount over `campaign_contacts` rows: `total_contacts` and every counter of
 * {@link DeliveryCounters}, as int columns named like the counters table's.
 */
export const RECOUNT_COLUMNS = [
  'count(*)::int AS total_contacts',
  ...COUNTER_NAMES.map((name) => `count(*) FILTER (WHERE ${countsInSql(name)})::int AS ${name}`),
].join(',\n  ');
