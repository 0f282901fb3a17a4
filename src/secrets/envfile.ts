/**
 * Reads and writes `.env` files for `supervisor secrets import` / `export`,
 * in the dialect of the `dotenv` package, which is what most Node projects
 * load them with.
 *
 * Reading is `dotenv.parse` itself, so an import stores exactly what the
 * project would see in `process.env`. Writing picks, per value, a quoting that
 * `dotenv.parse` reads back unchanged, and checks the whole file with
 * `dotenv.parse` before handing it out: a value no dotenv quoting can hold is
 * refused by name, never written so that it reads back different.
 *
 * dotenv's quoting rules, which decide what can be written:
 * - bare values end at the first `#` or line break and lose surrounding
 *   whitespace, and a value wrapped in matching quotes loses them;
 * - `'…'` and `` `…` `` are literal and may span lines;
 * - `"…"` turns `\n` and `\r` into line breaks and keeps every other backslash;
 * - a quote of the enclosing kind is read only after a backslash (which stays),
 *   a raw carriage return becomes a line break, and a quoted value ending in a
 *   backslash can read on past its closing quote into the next lines.
 *
 * Error messages and refusals name keys only: values are secrets.
 */
import { parse } from 'dotenv';
import { invalidInput } from '../core/errors.js';

export interface EnvEntry {
  key: string;
  value: string;
}

/** A key `formatEnvFile` could not write, and why (never the value). */
export interface RefusedEntry {
  key: string;
  reason: string;
}

const KEY = '[A-Za-z_][A-Za-z0-9_.-]*';
const KEY_RE = new RegExp(`^${KEY}$`);
const PLAIN_RE = /^[A-Za-z0-9_./:@+,-]+$/;
const QUOTES = `'"\``;

/**
 * Entries of `.env` text exactly as `dotenv.parse` reads them, in the order
 * their keys first appear; a key set twice keeps its last value, as in dotenv.
 * Lines dotenv does not understand are skipped, as dotenv skips them.
 */
export function parseEnvFile(text: string): EnvEntry[] {
  return Object.entries(parse(text)).map(([key, value]) => ({ key, value }));
}

/** The start of a line dotenv reads as an assignment: `KEY=`, `KEY =`, `KEY: ` (optionally after `export `). */
const ASSIGNMENT = /^\s*(?:export\s+)?[\w.-]+(?:\s*=|:\s)/;
/** An assignment whose value opens a quote: group 1 is the quote. */
const QUOTED_ASSIGNMENT = new RegExp(`${ASSIGNMENT.source}\\s*(['"\`])`);
/** What may follow a closing quote on its line for dotenv to take it as the end of the value. */
const AFTER_CLOSING = /^\s*(?:#.*)?$/;

/**
 * The lines of `.env` text that start outside every value, with their numbers (from 1): a line
 * inside a multi-line quoted value is part of that value to dotenv, whatever it looks like. A
 * quoted value ends at the first unescaped quote with nothing but spaces or a comment after it
 * on its line; one that never closes is read by dotenv as a bare one-line value.
 */
function linesOutsideValues(text: string): Array<{ line: string; number: number }> {
  // dotenv reads \r\n and a lone \r as line breaks.
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const outside: Array<{ line: string; number: number }> = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    outside.push({ line, number: i + 1 });
    const open = QUOTED_ASSIGNMENT.exec(line);
    // The lines up to the closing quote are the value's: skip them.
    if (open) i = closingLine(lines, i, open[0].length, open[1]!) ?? i;
  }
  return outside;
}

/** The lines of `.env` text that start with `#` and lie outside every value (comments, to dotenv). */
export function commentLines(text: string): string[] {
  return linesOutsideValues(text).flatMap(({ line }) => (line.startsWith('#') ? [line] : []));
}

/**
 * The numbers of the lines dotenv skips without a word: neither blank, nor a comment, nor an
 * assignment (a space in the key, no `=`). An import says so, naming lines, never their text.
 */
export function unreadLines(text: string): number[] {
  return linesOutsideValues(text).flatMap(({ line, number }) => (/^\s*(?:#|$)/.test(line) || ASSIGNMENT.test(line) ? [] : [number]));
}

/**
 * The line where a quoted value opened at `lines[start]` (its text from `from`) closes, or
 * undefined when dotenv reads it bare. dotenv's pattern (`"(?:\\"|[^"])*"`, greedy) cannot run past
 * a quote without a backslash before it; the quote closing the value is that one, or failing
 * that the last quote before it with a backslash before it, whichever first has nothing but
 * spaces or a comment after it on its line.
 */
function closingLine(lines: readonly string[], start: number, from: number, quote: string): number | undefined {
  const candidates: Array<{ line: number; at: number }> = [];
  search: for (let j = start; j < lines.length; j++) {
    const line = lines[j]!;
    for (let k = line.indexOf(quote, j === start ? from : 0); k !== -1; k = line.indexOf(quote, k + 1)) {
      candidates.push({ line: j, at: k });
      if (line[k - 1] !== '\\') break search;
    }
  }
  for (let c = candidates.length - 1; c >= 0; c--) {
    const { line, at } = candidates[c]!;
    if (AFTER_CLOSING.test(lines[line]!.slice(at + 1))) return line;
  }
  return undefined;
}

/**
 * How `value` is written after `KEY=` so that `dotenv.parse` returns it
 * exactly, or undefined when no dotenv quoting can hold it. Quoted forms are
 * preferred in this order: literal single quotes on one line, double quotes
 * with `\n`/`\r` escapes, backticks, single quotes over several lines; a value
 * that fits none may still be written bare, or wrapped in quotes on a line
 * without `#` (dotenv then reads the line bare and strips the outer quotes).
 */
export function quoteEnvValue(value: string): string | undefined {
  if (PLAIN_RE.test(value)) return value;
  const endsInBackslash = value.endsWith('\\');
  const hasBreak = /[\r\n]/.test(value);
  if (!endsInBackslash) {
    if (!hasBreak && fitsIn(value, "'")) return `'${value}'`;
    if (fitsIn(value, '"') && !/\\[nr]/.test(value)) return `"${escapeBreaks(value)}"`;
    if (fitsIn(value, '`') && !value.includes('\r')) return `\`${value}\``;
    if (fitsIn(value, "'") && !value.includes('\r')) return `'${value}'`;
  }
  if (canBeBare(value)) return value;
  if (!value.includes('#')) {
    // Written as a line dotenv reads bare, which it trims and then strips of matching outer quotes.
    for (const quote of QUOTES) {
      const inner = quote === '"' ? escapeBreaks(value) : value;
      if (/[\r\n]/.test(inner) || !closesOnlyAtTheEnd(inner, quote)) continue;
      if (quote !== '"' || !/\\[nr]/.test(value)) return `${quote}${inner}${quote}`;
    }
  }
  return undefined;
}

/** Line breaks as the `\n` and `\r` that dotenv turns back into them inside double quotes. */
function escapeBreaks(value: string): string {
  return value.replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

/** dotenv reads a quote inside quotes of its kind only when a backslash precedes it (and keeps the backslash). */
function fitsIn(value: string, quote: string): boolean {
  for (let i = value.indexOf(quote); i !== -1; i = value.indexOf(quote, i + 1)) {
    if (value[i - 1] !== '\\') return false;
  }
  return true;
}

/**
 * Whether `quote` + value + `quote` on a line without `#` can only be read as
 * that whole line. dotenv first tries it as a quoted value, which may close at
 * any of the value's quotes up to its first unescaped one, and is taken when a
 * line end follows, U+2028 and U+2029 included; with no unescaped quote in the
 * value it closes at the end, unless a trailing backslash escapes that quote.
 */
function closesOnlyAtTheEnd(value: string, quote: string): boolean {
  for (let i = value.indexOf(quote); i !== -1; i = value.indexOf(quote, i + 1)) {
    if (/^\s*[\u2028\u2029]/.test(value.slice(i + 1))) return false;
    if (value[i - 1] !== '\\') return true;
  }
  return !value.endsWith('\\');
}

/** A bare value survives when dotenv's cut at `#` and trim leave it alone and nothing in it reads as quoting. */
function canBeBare(value: string): boolean {
  if (value === '' || value.trim() !== value || /[#\r\n]/.test(value)) return false;
  const first = value[0] ?? '';
  if (QUOTES.includes(first) && opensQuote(value, first)) return false;
  // dotenv expands `\n` and `\r` in any value that starts with a double quote, quoted or not.
  if (first === '"' && /\\[nr]/.test(value)) return false;
  return !quotedAcrossLineSeparators(value);
}

/**
 * Whether a bare value that starts with `quote` is read by dotenv as a quoted
 * value: it closes at any of its quotes up to its first unescaped one when a
 * line end follows (U+2028 and U+2029 included), and with no unescaped one it
 * runs on into the lines below.
 */
function opensQuote(value: string, quote: string): boolean {
  for (let i = value.indexOf(quote, 1); i !== -1; i = value.indexOf(quote, i + 1)) {
    if (/^\s*(?:[\u2028\u2029]|$)/.test(value.slice(i + 1))) return true;
    if (value[i - 1] !== '\\') return false;
  }
  return true;
}

/**
 * dotenv strips matching quotes with a multi-line regular expression, for which
 * U+2028 and U+2029 end lines too: a bare value loses the quotes of any of its
 * "lines" that opens with a quote when the same or a later one closes with it.
 */
function quotedAcrossLineSeparators(value: string): boolean {
  const lines = value.split(/[\u2028\u2029]/);
  return lines.some((line, i) => {
    const quote = line[0];
    if (quote === undefined || !QUOTES.includes(quote)) return false;
    return lines.slice(i).some((later, j) => later.endsWith(quote) && (j > 0 || later.length >= 2));
  });
}

/** Why `quoteEnvValue` gave up on a value, in terms of what it holds (never the value itself). */
function whyUnquotable(value: string): string {
  const holds: string[] = [];
  if (value.includes("'") && value.includes('"') && value.includes('`')) holds.push('all three quote characters');
  if (value.includes('\r')) holds.push('a carriage return');
  if (/\\[nr]/.test(value)) holds.push('a backslash before n or r');
  if (value.endsWith('\\')) holds.push('a trailing backslash');
  if (/\n/.test(value)) holds.push('a line break');
  if (value.includes('#')) holds.push('a #');
  if (value.trim() !== value) holds.push('leading or trailing whitespace');
  return `dotenv cannot read this value back exactly (it holds ${holds.join(', ') || 'characters no quoting can hold'})`;
}

/**
 * Writes entries as `KEY=value` lines, after an optional `# ` comment header.
 * Each value gets the quoting `quoteEnvValue` chooses, and the finished text is
 * read back with `dotenv.parse`: entries that would not come back exactly are
 * left out, named with the reason in a comment line and in `refused`.
 */
export function formatEnvFile(entries: ReadonlyArray<EnvEntry>, header?: string): { content: string; refused: RefusedEntry[] } {
  const keys = new Set<string>();
  for (const { key } of entries) {
    if (!KEY_RE.test(key)) throw invalidInput(`invalid env key ${JSON.stringify(key)} (expected ${KEY})`, { key });
    if (keys.has(key)) throw invalidInput(`env key ${key} is given twice`, { key });
    keys.add(key);
  }
  const refused: RefusedEntry[] = [];
  let kept = entries.filter(({ key, value }) => {
    if (quoteEnvValue(value) !== undefined) return true;
    refused.push({ key, reason: whyUnquotable(value) });
    return false;
  });
  for (;;) {
    const content = render(kept, header, refused);
    const read = parse(content);
    const drifted = kept.filter(({ key, value }) => read[key] !== value);
    if (drifted.length === 0 && Object.keys(read).length === kept.length) return { content, refused };
    if (drifted.length === 0) throw new Error('formatEnvFile: dotenv reads keys that were not written');
    // Not expected with the rules above; the check makes sure a file never reads back different.
    for (const { key } of drifted) refused.push({ key, reason: 'dotenv reads this value back differently in this file' });
    kept = kept.filter((e) => !drifted.includes(e));
  }
}

/** The header and one `# KEY left out: reason` line per refused key, as comments, then the entries. */
function render(entries: ReadonlyArray<EnvEntry>, header: string | undefined, refused: ReadonlyArray<RefusedEntry>): string {
  const comments = [...(header ? header.split(/\r\n|[\r\n\u2028\u2029]/) : []), ...refused.map((r) => `${r.key} left out: ${r.reason}`)];
  const lines = comments.map((h) => (h === '' ? '#' : `# ${h}`));
  for (const { key, value } of entries) lines.push(`${key}=${quoteEnvValue(value) ?? ''}`);
  return lines.map((l) => `${l}\n`).join('');
}
