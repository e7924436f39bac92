/** Event times as senders write them. Pure. */

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** RFC 3339 text, or whole Unix seconds as a number or digit string (as Meta sends them). */
export function parseEventTime(value: unknown): Date | null {
  if (
    (typeof value === 'number' && Number.isInteger(value)) ||
    (typeof value === 'string' && /^\d{1,12}$/.test(value))
  ) {
    const seconds = Number(value);
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 253402300799) return null;
    return new Date(seconds * 1000);
  }
  if (typeof value !== 'string' || !RFC3339.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}
