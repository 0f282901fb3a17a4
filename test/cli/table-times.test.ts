// Times in CLI tables: relative ("3h ago") while that tells the rows apart, local times when it
// cannot (a time series read days later would show every row as "6d ago").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localTime, table } from '../../src/cli/output.js';

const now = new Date('2026-11-29T12:00:00Z');
const style = { now, units: {} };

test('times far enough apart stay relative', () => {
  const rows = [{ name: 'a', at: '2026-11-29T09:00:00.000Z' }, { name: 'b', at: '2026-11-29T11:00:00.000Z' }];
  assert.deepEqual(table(rows, ['name', 'at'], style, false).split('\n').slice(1), ['a     3h ago', 'b     1h ago']);
});

test('a column whose different times read the same relative text shows local times; other columns keep theirs', () => {
  const rows = [
    { at: '2026-11-23T08:00:00.000Z', seenAt: '2026-11-29T06:00:00.000Z', cpu: 25 },
    { at: '2026-11-23T08:30:00.000Z', seenAt: '2026-11-29T06:00:00.000Z', cpu: 30 },
  ];
  const lines = table(rows, ['at', 'seenAt', 'cpu'], style, false).split('\n');
  assert.match(lines[1]!, new RegExp(`^${localTime(rows[0]!.at)}\\s+6h ago\\s+25$`));
  assert.match(lines[2]!, new RegExp(`^${localTime(rows[1]!.at)}\\s+6h ago\\s+30$`), 'the same time twice is not ambiguous');
});
