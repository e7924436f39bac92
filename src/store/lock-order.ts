// Comparators for the orders rows are locked in: concurrent transactions that lock the same rows
// in one order cannot deadlock on them.

/** Text ids by code unit (campaign ids, link ids, WhatsApp message ids). */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Decimal ids (PostgreSQL bigint as text) by value. */
export function compareDecimal(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}
