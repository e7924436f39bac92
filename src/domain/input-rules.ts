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

/** How deep a value may nest before it is refused as bad input (GraphQL variables, JSON bodies). @default 64 */
export const MAX_INPUT_DEPTH = 64;

/**
 * The path of the first string inside a JSON-like value (object keys included) that PostgreSQL
 * cannot store, e.g. `input.name`, or of the first place nested deeper than MAX_INPUT_DEPTH; null
 * when there is none. Walks with an explicit stack: no input can exhaust the call stack.
 */
export function findUnstorableText(value: unknown, root = ''): string | null {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length > 0) {
    const { value: here, path, depth } = stack.pop()!;
    if (typeof here === 'string') {
      if (!isStorableText(here)) return path || '(value)';
      continue;
    }
    if (typeof here !== 'object' || here === null) continue;
    if (depth >= MAX_INPUT_DEPTH) return `${path || '(value)'} (nested deeper than ${MAX_INPUT_DEPTH})`;
    const entries: [string, unknown][] = Array.isArray(here)
      ? here.map((item, i) => [`${path}[${i}]`, item])
      : Object.entries(here).map(([key, item]) => [path ? `${path}.${key}` : key, item]);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [itemPath, item] = entries[i]!;
      if (!Array.isArray(here) && !isStorableText(itemPath.slice(itemPath.lastIndexOf('.') + 1))) return itemPath;
      stack.push({ value: item, path: itemPath, depth: depth + 1 });
    }
  }
  return null;
}
