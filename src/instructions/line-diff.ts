// Line diff for instruction files: the unified diff diff_instructions shows, and the lines a
// person added inside a managed block (what adopt moves into the project layer). Written here
// rather than taken from a library: the inputs are a few hundred lines, and two small functions
// over one LCS table are less to keep than a dependency.

interface LineOp {
  kind: 'same' | 'add' | 'del';
  line: string;
}

/** Above this many table cells the changed middle is shown as removed-then-added, not aligned. */
const MAX_TABLE_CELLS = 4_000_000;
const CONTEXT = 3;

/** Lines of `text`, each with its `\n` (the last may have none), so "x" and "x\n" differ. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A shortest edit from `a` to `b` (longest common subsequence, common ends trimmed first). */
function diffLines(a: string[], b: string[]): LineOp[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const same = (lines: string[]): LineOp[] => lines.map((line) => ({ kind: 'same', line }));
  return [...same(a.slice(0, start)), ...diffMiddle(a.slice(start, endA), b.slice(start, endB)), ...same(a.slice(endA))];
}

function diffMiddle(a: string[], b: string[]): LineOp[] {
  const del = a.map((line): LineOp => ({ kind: 'del', line }));
  const add = b.map((line): LineOp => ({ kind: 'add', line }));
  if (a.length === 0 || b.length === 0 || (a.length + 1) * (b.length + 1) > MAX_TABLE_CELLS) return [...del, ...add];
  // lcs[i][j] = length of the LCS of a[i..] and b[j..], row-major in one array.
  const width = b.length + 1;
  const lcs = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] = a[i] === b[j] ? lcs[(i + 1) * width + j + 1]! + 1 : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const ops: LineOp[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      ops.push({ kind: 'same', line: a[i++]! });
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!) {
      ops.push({ kind: 'del', line: a[i++]! });
    } else {
      ops.push({ kind: 'add', line: b[j++]! });
    }
  }
  return [...ops, ...del.slice(i), ...add.slice(j)];
}

/** One place where `after` differs from `before`: the lines taken out there and the lines put in (either may be empty). */
export interface LineChange {
  removed: string[];
  added: string[];
}

/** The places where `after` differs from `before`, in order, lines without their `\n`. */
export function lineChanges(before: string, after: string): LineChange[] {
  const changes: LineChange[] = [];
  let current: LineChange | undefined;
  for (const op of diffLines(splitLines(before), splitLines(after))) {
    if (op.kind === 'same') {
      current = undefined;
      continue;
    }
    if (!current) changes.push((current = { removed: [], added: [] }));
    (op.kind === 'add' ? current.added : current.removed).push(op.line.replace(/\n$/, ''));
  }
  return changes;
}

/** Runs of consecutive added lines, each joined with `\n`: the text a person inserted into `before`; and the lines taken out of it. */
export function addedRuns(before: string, after: string): { added: string[]; removed: string[] } {
  const changes = lineChanges(before, after);
  return { added: changes.filter((c) => c.added.length > 0).map((c) => c.added.join('\n')), removed: changes.flatMap((c) => c.removed) };
}

/** `diff -u` output for two texts, empty when they are equal. */
export function unifiedDiff(fromName: string, toName: string, before: string, after: string): string {
  if (before === after) return '';
  const ops = diffLines(splitLines(before), splitLines(after));
  const out = [`--- ${fromName}`, `+++ ${toName}`];
  for (const [first, last] of hunkRanges(ops)) out.push(...hunk(ops, first, last));
  return `${out.join('\n')}\n`;
}

/** [first, last) op indexes of each hunk: changes with CONTEXT lines around, close ones merged. */
function hunkRanges(ops: LineOp[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  ops.forEach((op, index) => {
    if (op.kind === 'same') return;
    const first = Math.max(0, index - CONTEXT);
    const last = Math.min(ops.length, index + CONTEXT + 1);
    const previous = ranges[ranges.length - 1];
    if (previous && first <= previous[1]) previous[1] = last;
    else ranges.push([first, last]);
  });
  return ranges;
}

function hunk(ops: LineOp[], first: number, last: number): string[] {
  // Line numbers where the hunk starts in each text: count what comes before it.
  let oldLine = 1;
  let newLine = 1;
  for (const op of ops.slice(0, first)) {
    if (op.kind !== 'add') oldLine++;
    if (op.kind !== 'del') newLine++;
  }
  const body = ops.slice(first, last);
  const oldCount = body.filter((op) => op.kind !== 'add').length;
  const newCount = body.filter((op) => op.kind !== 'del').length;
  const lines = [`@@ -${range(oldLine, oldCount)} +${range(newLine, newCount)} @@`];
  for (const op of body) {
    lines.push(`${PREFIX[op.kind]}${op.line.replace(/\n$/, '')}`);
    if (!op.line.endsWith('\n')) lines.push('\\ No newline at end of file');
  }
  return lines;
}

const PREFIX = { same: ' ', add: '+', del: '-' } as const;

/** diff -u's range: an empty range names the line before it. */
function range(start: number, count: number): string {
  if (count === 0) return `${start - 1},0`;
  return count === 1 ? `${start}` : `${start},${count}`;
}
