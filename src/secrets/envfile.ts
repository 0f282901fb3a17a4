/**
 * Reads and writes `.env` files for `supervisor secrets import` / `export`.
 *
 * The dialect is the bash / docker-compose subset people actually write:
 * comments, an optional `export ` prefix, bare values with ` # inline comments`,
 * literal single-quoted values and double-quoted values with a few escapes;
 * quoted values may span lines. `formatEnvFile` only emits what `parseEnvFile`
 * reads back unchanged, so export → import round-trips exactly.
 *
 * Error messages name line numbers and key names only: values are secrets.
 */
import { invalidInput } from '../core/errors.js';

export interface EnvEntry {
  key: string;
  value: string;
  /** 1-based line where the entry's key is. */
  line: number;
}

const KEY = '[A-Za-z_][A-Za-z0-9_.-]*';
const KEY_RE = new RegExp(`^${KEY}$`);
// Stops at `=`: the whitespace after it is left in place because it decides
// whether a following `#` starts a comment (`A= #c`) or is data (`A=#c`).
const ASSIGNMENT_RE = new RegExp(`^[ \\t]*(?:export[ \\t]+)?(${KEY})[ \\t]*=`);
const OPEN_QUOTE_RE = /^[ \t]*(["'])/;
const COMMENT_OR_BLANK_RE = /^\s*(?:#|$)/;
// After a closing quote only a comment separated by whitespace may follow: bash
// would glue `"x"#c` into `x#c`, so silently dropping `#c` would surprise.
const AFTER_QUOTE_RE = /^(?:[ \t]+#.*)?[ \t]*$/;
const BARE_VALUE_RE = /^[A-Za-z0-9_./:@+,-]+$/;

const DECODE = new Map([
  ['n', '\n'], ['r', '\r'], ['t', '\t'], ['"', '"'], ['\\', '\\'], ['$', '$'], ['`', '`'],
]);
const ENCODE = new Map([
  ['\n', '\\n'], ['\r', '\\r'], ['\t', '\\t'], ['"', '\\"'], ['\\', '\\\\'], ['$', '\\$'], ['`', '\\`'],
]);

/** Scan position over the whole text, because quoted values can cross lines. */
interface Cursor {
  src: string;
  pos: number;
  line: number;
}

/**
 * Parses `.env` text into entries in file order. A key that appears twice is
 * returned twice, in order: whether the later one wins or is a conflict is the
 * caller's policy, not the parser's.
 */
export function parseEnvFile(text: string): EnvEntry[] {
  // CRLF becomes LF up front so a multi-line quoted value in a Windows file reads
  // the same as on Unix; a lone CR is left alone as data.
  const cur: Cursor = { src: text.replace(/\r\n/g, '\n'), pos: 0, line: 1 };
  const entries: EnvEntry[] = [];
  while (cur.pos < cur.src.length) {
    const entry = parseStatement(cur);
    if (entry) entries.push(entry);
    skipToNextLine(cur);
  }
  return entries;
}

function parseStatement(cur: Cursor): EnvEntry | undefined {
  const text = restOfLine(cur);
  const line = cur.line;
  if (COMMENT_OR_BLANK_RE.test(text)) return undefined;
  const head = ASSIGNMENT_RE.exec(text);
  if (!head) {
    // The text before `=` is not echoed: on a malformed line it may hold the value.
    const problem = text.includes('=') ? `invalid key name (expected ${KEY})` : 'expected KEY=value';
    throw invalidInput(`line ${line}: ${problem}`, { line });
  }
  const key = head[1] ?? '';
  cur.pos += head[0].length;
  return { key, value: readValue(cur, key), line };
}

function readValue(cur: Cursor, key: string): string {
  const afterEquals = restOfLine(cur);
  const open = OPEN_QUOTE_RE.exec(afterEquals);
  if (!open) return readBare(afterEquals);

  const quote = open[1];
  const startLine = cur.line;
  const start = cur.pos + open[0].length;
  const read = quote === '"' ? readDoubleQuoted(cur.src, start) : readSingleQuoted(cur.src, start);
  if (!read) {
    const kind = quote === '"' ? 'double' : 'single';
    throw invalidInput(`line ${startLine}: unterminated ${kind}-quoted value for ${key}`, { line: startLine, key });
  }
  cur.line += countNewlines(cur.src.slice(cur.pos, read.end));
  cur.pos = read.end;
  if (!AFTER_QUOTE_RE.test(restOfLine(cur))) {
    throw invalidInput(`line ${cur.line}: unexpected text after the closing quote of ${key}`, { line: cur.line, key });
  }
  return read.value;
}

/** A `#` starts a comment only after whitespace, so `a=b#c` keeps `b#c` (URL fragments, colours). */
function readBare(text: string): string {
  const comment = text.search(/[ \t]#/);
  return (comment === -1 ? text : text.slice(0, comment)).replace(/^[ \t]+|[ \t]+$/g, '');
}

interface QuotedRead {
  value: string;
  /** Index just past the closing quote. */
  end: number;
}

function readSingleQuoted(src: string, start: number): QuotedRead | undefined {
  const close = src.indexOf("'", start);
  return close === -1 ? undefined : { value: src.slice(start, close), end: close + 1 };
}

/** Unknown escapes such as `\d` keep their backslash, so regexes and Windows paths survive. */
function readDoubleQuoted(src: string, start: number): QuotedRead | undefined {
  let value = '';
  for (let i = start; i < src.length; i++) {
    const ch = src[i] ?? '';
    if (ch === '"') return { value, end: i + 1 };
    const next = src[i + 1];
    if (ch === '\\' && next !== undefined) {
      value += DECODE.get(next) ?? ch + next;
      i++;
    } else {
      value += ch;
    }
  }
  return undefined;
}

function restOfLine(cur: Cursor): string {
  const end = cur.src.indexOf('\n', cur.pos);
  return cur.src.slice(cur.pos, end === -1 ? cur.src.length : end);
}

function skipToNextLine(cur: Cursor): void {
  const end = cur.src.indexOf('\n', cur.pos);
  cur.pos = end === -1 ? cur.src.length : end + 1;
  cur.line++;
}

function countNewlines(text: string): number {
  return text.split('\n').length - 1;
}

/**
 * Writes entries as `KEY=value` lines, after an optional `# ` comment header.
 * Values outside a conservative bare character set are double-quoted with every
 * character that `parseEnvFile` would interpret escaped, and raw newlines never
 * appear, so each entry stays on one line.
 */
export function formatEnvFile(entries: ReadonlyArray<{ key: string; value: string }>, header?: string): string {
  const lines = header ? header.split(/\r?\n/).map((h) => (h === '' ? '#' : `# ${h}`)) : [];
  for (const { key, value } of entries) {
    if (!KEY_RE.test(key)) {
      throw invalidInput(`invalid env key ${JSON.stringify(key)} (expected ${KEY})`, { key });
    }
    lines.push(`${key}=${formatValue(value)}`);
  }
  return lines.map((l) => `${l}\n`).join('');
}

function formatValue(value: string): string {
  if (BARE_VALUE_RE.test(value)) return value;
  return `"${value.replace(/[\n\r\t"\\$`]/g, (ch) => ENCODE.get(ch) ?? ch)}"`;
}
