import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { invalidInput } from '../core/errors.js';

/** One page of a list answer; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Cursors are opaque to callers: the last key of the previous page behind a check tag, base64url-
 * encoded. Without the tag any base64url string decoded to some key, so a made-up cursor ("AA",
 * "page2") or one from before an upgrade silently answered a page (often the first) instead of
 * being refused. The tag is a keyed hash under a label: it catches strings this code did not
 * make, it does not hide the key (the key is no secret: it is the last item shown).
 */
const TAG_BYTES = 8;
const tagOf = (label: string, key: Buffer) => createHmac('sha256', label).update(key).digest().subarray(0, TAG_BYTES);

function seal(label: string, key: string): string {
  const bytes = Buffer.from(key, 'utf8');
  return Buffer.concat([tagOf(label, bytes), bytes]).toString('base64url');
}

export const badCursor = () =>
  invalidInput('cursor: not one this server issued for this list and these fields; pass a nextCursor unchanged, to the same list with the same fields (limit may change), or omit cursor for the first page', {
    field: 'cursor',
  });

/** The key of a cursor sealed under `label`; anything else is refused: wrong alphabet, a wrong or missing tag, bytes that are not UTF-8 text. */
function unseal(label: string, cursor: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw badCursor();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length < TAG_BYTES || !bytes.subarray(0, TAG_BYTES).equals(tagOf(label, bytes.subarray(TAG_BYTES)))) throw badCursor();
  const key = bytes.subarray(TAG_BYTES).toString('utf8');
  if (key.includes('\0') || seal(label, key) !== cursor) throw badCursor();
  return key;
}

/** The label of the cursors list code issues and reads, whichever list it is. */
const ANY_LIST = 'supervisor list cursor v1';

export const encodeCursor = (key: string): string => seal(ANY_LIST, key);

/** The key of a cursor list code issued; anything else is refused. */
export const decodeCursor = (cursor: string): string => unseal(ANY_LIST, cursor);

/**
 * A cursor as the list operation `list` hands it out, and back. The tag above tells our cursors
 * from made-up ones, not one list's from another's: list A's cursor given to list B with keys of
 * the same shape (two logs paged by int id, two lists paged by name) answered some page of B. Nor
 * one question's from another's: a cursor of `prefix project/alpha/` given with `prefix project/`
 * answered a page that skipped every path before it. So the catalog, where every operation is
 * called, re-seals each nextCursor under the operation's name and the call's other fields (all
 * but cursor and limit, as parsed), and opens a cursor only under the same: lists need not do it
 * themselves, and a new one cannot forget to. Same length as the list's own cursor.
 */
const labelOf = (list: string, input: unknown) => `supervisor list cursor v3 ${list}\0${fieldsOf(input)}`;
export const bindCursor = (list: string, cursor: string, input: unknown): string => seal(labelOf(list, input), decodeCursor(cursor));
export const unbindCursor = (list: string, cursor: string, input: unknown): string => encodeCursor(unseal(labelOf(list, input), cursor));

/** A list call's fields but its page, as canonical JSON (keys sorted at every level). */
function fieldsOf(input: unknown): string {
  if (input === null || typeof input !== 'object') return '';
  const { cursor: _cursor, limit: _limit, ...fields } = input as Record<string, unknown>;
  return JSON.stringify(fields, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : value,
  );
}

/** A cursor whose key is a row id or version number, at most `max` (an int4 column's limit by default). */
export function decodeIntCursor(cursor: string, max = 2 ** 31 - 1): number {
  const key = decodeCursor(cursor);
  if (!/^\d{1,15}$/.test(key) || Number(key) > max) throw badCursor();
  return Number(key);
}

/** Every list operation takes these, so no answer floods an agent's context. */
export const pageInput = {
  limit: z.number().int().min(1).max(200).default(50).describe('Page size'),
  cursor: z.string().max(1024).optional().describe('nextCursor of the previous page'),
};

export const pageOutput = {
  nextCursor: z.string().nullable().describe('Pass as cursor to get the next page; null on the last page'),
};

/** Pages a short list that is loaded whole and sorted by `key` (grants, tokens, keys). */
export function pageArray<T>(all: T[], page: { limit: number; cursor?: string }, key: (item: T) => string): Page<T> {
  const after = page.cursor !== undefined ? decodeCursor(page.cursor) : '';
  const rest = all.filter((item) => key(item) > after);
  const items = rest.slice(0, page.limit);
  const last = items.at(-1);
  return { items, nextCursor: rest.length > page.limit && last ? encodeCursor(key(last)) : null };
}

/**
 * One page of an append-only log read newest first: the cursor is the last id shown, and
 * one row more than the page is fetched to know whether another page follows.
 */
export async function pageNewestFirst<T extends { id: number }>(
  page: { limit: number; cursor?: string },
  fetch: (before: number | undefined, limit: number) => Promise<T[]>,
): Promise<Page<T>> {
  const rows = await fetch(page.cursor !== undefined ? decodeIntCursor(page.cursor, Number.MAX_SAFE_INTEGER) : undefined, page.limit + 1);
  const items = rows.slice(0, page.limit);
  return { items, nextCursor: rows.length > page.limit ? encodeCursor(String(items.at(-1)!.id)) : null };
}

/** Every item of a paged list, for callers inside the process that need the whole list (one page after another). */
export async function allPages<T>(fetch: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetch(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}
