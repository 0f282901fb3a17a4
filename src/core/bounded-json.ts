/**
 * A copy of a value small and plain enough to keep in a log table: strings cut at
 * a few hundred characters, arrays and objects at a few dozen entries, nesting at a
 * few levels, and characters PostgreSQL's jsonb refuses (NUL, lone surrogates)
 * replaced. A rejected call's 10 MB input, or one nested 100,000 deep, becomes a
 * short summary, and one such record can no longer make a whole batch fail.
 */
const LIMITS = { depth: 6, string: 200, entries: 50 };

const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function boundedString(text: string): string {
  const clean = text.replace(UNSTORABLE, '\uFFFD');
  return clean.length <= LIMITS.string ? clean : `${clean.slice(0, LIMITS.string)}…(${text.length} chars)`;
}

export function boundedJson(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return boundedString(value);
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value !== 'object') return String(value);
  if (depth >= LIMITS.depth) return Array.isArray(value) ? `[array of ${value.length}]` : '[object]';
  if (Array.isArray(value)) {
    const items = value.slice(0, LIMITS.entries).map((item) => boundedJson(item, depth + 1));
    return value.length > LIMITS.entries ? [...items, `…(${value.length} items)`] : items;
  }
  const entries = Object.entries(value);
  const out: Record<string, unknown> = {};
  for (const [key, item] of entries.slice(0, LIMITS.entries)) out[boundedString(key)] = boundedJson(item, depth + 1);
  if (entries.length > LIMITS.entries) out['…'] = `${entries.length} keys`;
  return out;
}
