/**
 * The one input rule for text and numbers at every edge (docs/errors.md): PostgreSQL cannot store
 * U+0000 in text, and a lone UTF-16 surrogate is not text at all; integers must fit the column
 * they go to. Bad input is refused before it reaches the database, never answered 5xx. Pure.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The range of a PostgreSQL `integer` column (WhatsApp error codes). */
export const INT32_MIN = -2_147_483_648;
export const INT32_MAX = 2_147_483_647;

/** Whether PostgreSQL can store this string as text: no U+0000, no lone surrogate. */
export function isStorableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

/** Whether a value is an integer that fits an `integer` column. */
export function isInt32(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= INT32_MIN && (value as number) <= INT32_MAX;
}

/** The reason a text field is refused, naming it, or null when it is fine. */
export function unstorableTextReason(field: string, value: string): string | null {
  return isStorableText(value) ? null : `${field} must not contain U+0000 or a lone surrogate`;
}

/**
 * The path of the first string inside a JSON-like value (object keys included) that PostgreSQL
 * cannot store, e.g. `input.name`, or null when there is none.
 */
export function findUnstorableText(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : path || '(value)';
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (!isStorableText(key)) return here;
      const found = findUnstorableText(item, here);
      if (found !== null) return found;
    }
  }
  return null;
}
