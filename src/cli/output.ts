import type { NumberFormat } from '../catalog/operation.js';
import type { CommandSpec } from './commands.js';
import { clipped } from '../core/clip.js';
import { usageError } from './args.js';
import { NUMBER_FORMATS } from './number-formats.js';

export interface Format {
  json: boolean;
  /** `--field NAME`: one field, raw. */
  field?: string;
  wide: boolean;
  /** stdout is a terminal: raw values end with a newline only then. */
  tty: boolean;
  now: Date;
}

type Row = Record<string, unknown>;

/**
 * Terminal controls (C0 and C1 but tab and line feed, DEL; a carriage return unless a line feed
 * follows, as in CRLF text) and the marks that reverse text direction.
 */
const CONTROLS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g;

/**
 * Text as a person's terminal should show it: control characters written out (\x1b, \u202e)
 * instead of acted on. Descriptions, names and reasons come from whoever wrote them (a project
 * token, an agent), and an escape sequence in one could clear the admin's screen, forge a line
 * or hide what follows. --json and output piped to a program stay exact.
 */
export function visible(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

const isRow = (v: unknown): v is Row => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The array-of-objects fields of an answer: `items` for list operations, sections such as `ok`/`down` for reports. */
function tableFields(cmd: CommandSpec): string[] {
  return cmd.output.filter((f) => f.type === 'array' && f.items).map((f) => f.name);
}

/** The output fields `--field` may name: top-level ones, and the item fields of a list. */
export function fieldNames(cmd: CommandSpec): string[] {
  return [...new Set([...cmd.output.map((f) => f.name), ...cmd.output.flatMap((f) => (f.items ?? []).map((i) => i.name))])];
}

/** Refuses a `--field` the answer cannot have, before anything is called. */
export function checkField(cmd: CommandSpec, field: string | undefined): void {
  if (field === undefined) return;
  const names = fieldNames(cmd);
  if (!names.includes(field)) throw usageError(cmd, `--field ${field}: the answer has no such field; it has ${names.join(', ')}`);
}

function raw(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

const UNITS: Array<[number, string]> = [
  [365 * 86_400_000, 'y'],
  [30 * 86_400_000, 'mo'],
  [86_400_000, 'd'],
  [3_600_000, 'h'],
  [60_000, 'm'],
  [1_000, 's'],
];

/** "3h ago", "in 5d". */
export function relative(iso: string, now: Date): string {
  const diff = Date.parse(iso) - now.getTime();
  const abs = Math.abs(diff);
  if (abs < 1000) return 'now';
  // Whole units, less a hundredth of one: a time set 3 days ahead is "in 3d" a moment later, where
  // flooring 2.99999 days said "in 2d" (and a 30-day rotation "in 29d") as soon as it was set.
  const [size, unit] = UNITS.find(([ms]) => abs >= ms * 0.99)!;
  const n = Math.floor(abs / size + 0.01);
  return diff < 0 ? `${n}${unit} ago` : `in ${n}${unit}`;
}

const pad = (n: number) => String(n).padStart(2, '0');
/** Local time, to the second: 2026-11-29 22:30:05. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A time field: named at, from, to, …At or …By (rotateBy), holding an ISO date. */
function isTime(name: string, value: unknown): value is string {
  return typeof value === 'string' && (TIME_NAMES.has(name) || /(At|By)$/.test(name)) && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
}

/** Field names that are times by themselves: a moment, or the ends of a window (vm health, vm history). */
const TIME_NAMES = new Set(['at', 'from', 'to']);

type Mode = 'cell' | 'wide' | 'long';

/** How values are shown: the time they are relative to, and the command's presentation of its fields (CliSpec). */
interface Style {
  now: Date;
  units: Record<string, string>;
  formats?: Record<string, NumberFormat>;
  headers?: Record<string, string>;
  nestedColumns?: Record<string, string[]>;
  /** --wide: every field of a nested list too. */
  wide?: boolean;
}

/** Words (tags: `db,prod`) joined by commas; sentences (notes) by semicolons, so they read apart. */
function joinWords(items: string[]): string {
  if (items.length === 0) return '-';
  return items.some((s) => /\s/.test(s)) ? items.join('; ') : items.join(',');
}

/**
 * A list of objects inside one cell or line: each object's values, the objects separated by commas
 * (`CLAUDE.md stale, AGENTS.md current`). A list of objects inside those is left to --json:
 * a socket's `processes` repeated its pid and command in every cell.
 */
function compactRows(rows: unknown[], style: Style): string {
  const shown = (v: unknown) => v !== null && v !== undefined && !(Array.isArray(v) && v.some(isRow));
  return rows.map((row) => (isRow(row) ? Object.entries(row).filter(([, v]) => shown(v)).map(([k, v]) => show(k, v, style, 'cell')).join(' ') : String(row))).join(', ');
}

/** One value in a table cell (`wide`: absolute times) or after `key:` (`long`). */
function show(name: string, value: unknown, style: Style, mode: Mode): string {
  const { now } = style;
  if (value === null || value === undefined || (value === '' && mode !== 'long')) return '-';
  if (isTime(name, value)) {
    const mark = name === 'expiresAt' && Date.parse(value) < now.getTime() ? 'EXPIRED ' : '';
    if (mode === 'long') return `${mark}${localTime(value)} (${relative(value, now)})`;
    return `${mark}${mode === 'wide' ? localTime(value) : relative(value, now)}`;
  }
  if (Array.isArray(value)) return value.every((v) => !isRow(v)) ? joinWords(value.map((v) => visible(String(v)))) : compactRows(value, style);
  // An object in a cell: its fields as name=value, not JSON braces and quotes.
  if (isRow(value)) return Object.entries(value).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => `${k}=${show(k, v, style, 'cell')}`).join(' ') || '-';
  if (typeof value === 'string') return visible(mode === 'long' ? value : value.replace(/\s+/g, ' '));
  if (typeof value !== 'number') return String(value);
  const format = style.formats?.[name];
  if (format) return NUMBER_FORMATS[format].show(value);
  // Fractions to three decimals for reading (0.818, not 0.8181818181818182); --json keeps them whole.
  return `${Number.isInteger(value) ? value : Math.round(value * 1000) / 1000}${style.units[name] ?? ''}`;
}

/**
 * A time column shown relative ("3h ago") unless that cannot tell two different times apart
 * (a time series: every row "6d ago"); then it shows local times, like --wide.
 */
function timeModes(rows: Row[], columns: string[], style: Style): Mode[] {
  return columns.map((c) => {
    const seen = new Map<string, unknown>();
    for (const row of rows) {
      const value = row[c];
      if (!isTime(c, value)) continue;
      const text = relative(value, style.now);
      if (seen.has(text) && seen.get(text) !== value) return 'wide';
      seen.set(text, value);
    }
    return 'cell';
  });
}

/**
 * A column's header: the command's own label, or the field name in words (p50Ms: P50 MS), less
 * the unit its format now shows in every cell (monthlyUsd as $117.83: MONTHLY).
 */
function headerOf(column: string, style: Style): string {
  const label = style.headers?.[column];
  if (label !== undefined) return label.toUpperCase();
  const format = style.formats?.[column];
  const unit = format && NUMBER_FORMATS[format].nameUnit;
  const name = unit && unit.test(column) && column.replace(unit, '') !== '' ? column.replace(unit, '') : column;
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toUpperCase();
}

/** Numbers line up on their last digit: a column whose values are all numbers (or missing) is right-aligned. */
const isNumberColumn = (rows: Row[], column: string) => rows.some((r) => typeof r[column] === 'number') && rows.every((r) => r[column] === null || r[column] === undefined || typeof r[column] === 'number');

/**
 * A text cell before the last, beyond this, is cut with … (--wide shows it whole): one long value
 * (a loop's feature) made every row that wide. Not a cell that sums up nested rows (a check's
 * files with their reasons), whose end is what it says.
 */
const CELL_MAX = 80;

/** An aligned table: upper-case headers, numbers right-aligned, the last column unpadded. */
export function table(rows: Row[], columns: string[], style: Style, wide: boolean): string {
  const header = columns.map((c) => headerOf(c, style));
  const modes: Mode[] = wide ? columns.map(() => 'wide') : timeModes(rows, columns, style);
  const fit = (text: string, value: unknown, i: number) => (wide || i === columns.length - 1 || typeof value !== 'string' ? text : clipped(text, CELL_MAX));
  const cells = rows.map((row) => columns.map((c, i) => fit(show(c, row[c], style, modes[i]!), row[c], i)));
  const widths = columns.map((_, i) => Math.max(header[i]!.length, ...cells.map((r) => r[i]!.length)));
  const right = columns.map((c) => isNumberColumn(rows, c));
  const line = (r: string[]) => r.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...cells.map(line)].join('\n');
}

function columnsFor(cmd: CommandSpec, field: string, rows: Row[], wide: boolean): string[] {
  const declared = cmd.output.find((f) => f.name === field)?.items?.map((i) => i.name) ?? Object.keys(rows[0] ?? {});
  if (wide) return declared;
  if (field === 'items' && cmd.cli.columns) {
    const set = Object.entries(cmd.cli.columnsUnless ?? {}).flatMap(([c, usual]) => (rows.some((r) => (r[c] ?? null) !== usual) ? [c] : []));
    return [...cmd.cli.columns, ...set];
  }
  // Without a choice: the scalar fields, at most six.
  const scalar = declared.filter((name) => rows.every((r) => !isRow(r[name]) && !(Array.isArray(r[name]) && (r[name] as unknown[]).some(isRow))));
  return scalar.slice(0, 6);
}

/** Every field some row has, in the order they first appear: a field only later rows have (a failed project's reason) is a column too. */
const keysOf = (rows: Row[]): string[] => [...new Set(rows.flatMap((row) => Object.keys(row)))];

/**
 * Whether some row holds a list of objects the command gave a table of its own (CliSpec.nestedColumns:
 * an account's VMs, too many fields for one cell). Other lists stay name=value cells of their row, so
 * a check of 60 projects stays a line per project.
 */
const hasNestedTable = (rows: Row[], style: Style): boolean =>
  rows.some((row) => Object.entries(row).some(([k, v]) => style.nestedColumns?.[k] !== undefined && Array.isArray(v) && v.some(isRow)));

/**
 * The columns of a list inside the answer: those the command chose that some row has, else every
 * field but lists empty in every row (no warnings anywhere): a column of "-" says nothing, and
 * it kept a refused project's reason from being the last column, shown whole. --wide shows all.
 */
function nestedColumns(key: string, rows: Row[], style: Style): string[] {
  const all = keysOf(rows);
  if (style.wide) return all;
  const chosen = style.nestedColumns?.[key];
  if (chosen) return chosen.filter((c) => all.includes(c));
  const emptyEverywhere = (c: string) => rows.every((row) => Array.isArray(row[c]) && (row[c] as unknown[]).length === 0);
  return all.filter((c) => !emptyEverywhere(c));
}

/** Whether some row holds text of several lines in a column shown, which a table cell would run together. */
const hasLines = (rows: Row[], columns?: string[]): boolean =>
  rows.some((row) => (columns ?? Object.keys(row)).some((c) => typeof row[c] === 'string' && (row[c] as string).includes('\n')));

/** Rows one after another as `key: value` lines, a blank line apart: text keeps its lines (a note, a code block). */
function records(rows: Row[], style: Style, indent = ''): string[] {
  return rows.flatMap((row, i) => [...(i > 0 ? [''] : []), ...keyValues(row, style, new Set(), indent)]);
}

const pick = (row: Row, columns: string[]): Row => Object.fromEntries(columns.map((c) => [c, row[c]]));

/** `labels`: what to print for some keys instead of their names (CliSpec.dryRunLabels). */
function keyValues(obj: Row, style: Style, skip: Set<string>, indent = '', labels: Record<string, string> = {}): string[] {
  const entries = Object.entries(obj).filter(([k]) => !skip.has(k)).map(([k, v]): [string, string, unknown] => [k, labels[k] ?? k, v]);
  const width = Math.max(0, ...entries.map(([, label]) => label.length)) + 2;
  const lines: string[] = [];
  for (const [key, label, value] of entries) {
    // An empty object (a VM without labels) is one line saying so, not a heading over nothing.
    if (isRow(value) && Object.keys(value).length > 0) {
      lines.push(`${indent}${label}:`, ...keyValues(value, style, new Set(), `${indent}  `));
    } else if (Array.isArray(value) && value.some(isRow)) {
      const rows = value as Row[];
      // Rows holding lists the command tabulates are records, each list a table of its own below them.
      const asRecords = hasLines(rows) || hasNestedTable(rows, style);
      lines.push(`${indent}${label}:`, ...(asRecords ? records(rows, style, `${indent}  `) : table(rows, nestedColumns(key, rows, style), style, false).split('\n').map((l) => `${indent}  ${l}`)));
    } else {
      const text = show(key, value, style, 'long');
      // Blank lines of the text stay empty, without the indent's trailing spaces.
      lines.push(text.includes('\n') ? `${indent}${label}:\n${text.replace(/^(?=.)/gm, `${indent}  `)}` : `${indent}${`${label}:`.padEnd(width)}${text}`);
    }
  }
  return lines;
}

/** What a command prints on stdout for its answer. */
export function render(cmd: CommandSpec, output: Row, format: Format): string {
  if (format.json) return `${JSON.stringify(output, null, 2)}\n`;
  const end = format.tty ? '\n' : '';
  // Raw values are exact for a program reading them; a terminal is shown their controls.
  const exact = (text: string) => (format.tty ? visible(text) : text);
  if (format.field !== undefined) {
    if (format.field in output) return `${exact(raw(output[format.field]))}${end}`;
    const list = tableFields(cmd).map((f) => output[f]).find((v): v is Row[] => Array.isArray(v));
    return (list ?? []).map((row) => `${exact(raw(row[format.field!]))}\n`).join('');
  }
  if (cmd.cli.print && typeof output[cmd.cli.print] === 'string') return exact(output[cmd.cli.print] as string);
  const isList = 'items' in output && Array.isArray(output.items);
  const { units = {}, formats, headers, nestedColumns } = cmd.cli;
  const style: Style = { now: format.now, units, formats, headers, nestedColumns, wide: format.wide };
  // A dry run's answer says what would happen, not what did (deleted: 1 when nothing was).
  const labels = output.applied === false || output.dryRun === true ? (cmd.cli.dryRunLabels ?? {}) : {};
  if (!isList) return `${keyValues(output, style, new Set(), '', labels).join('\n')}\n`;
  const rows = output.items as Row[];
  // Beside the table, only what says something: `folders` of a listing, not an empty prefix; a list
  // of objects that is not empty (accounts that could not be read) as a table of its own.
  const empty = Object.entries(output).filter(([, v]) => v === null || v === '' || (Array.isArray(v) && v.length === 0)).map(([k]) => k);
  const others = keyValues(output, style, new Set(['items', 'nextCursor', ...empty]));
  const parts = others.length > 0 ? [others.join('\n'), ''] : [];
  const columns = columnsFor(cmd, 'items', rows, format.wide);
  if (rows.length === 0) parts.push('(none)');
  else parts.push(hasLines(rows, columns) ? records(rows.map((row) => pick(row, columns)), style).join('\n') : table(rows, columns, style, format.wide));
  return `${parts.join('\n')}\n`;
}

/** The hint printed on stderr when a page is not the last. */
export function moreHint(output: Row): string | undefined {
  return typeof output.nextCursor === 'string' ? `more results: add --all, or --cursor ${output.nextCursor}` : undefined;
}

/** Concatenates the pages of a list: every array field appended, the last page's other fields kept. */
export function mergePages(pages: Row[]): Row {
  const merged: Row = { ...pages.at(-1)! };
  for (const [key, value] of Object.entries(pages[0]!)) {
    if (Array.isArray(value)) merged[key] = pages.flatMap((p) => (p[key] as unknown[] | undefined) ?? []);
  }
  merged.nextCursor = null;
  return merged;
}
