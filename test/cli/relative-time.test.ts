// Relative times as the CLI shows them: whole units, so that a time set a whole number of days
// ahead reads as that many days a moment later (flooring 2.99999 days said "in 2d").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative } from '../../src/cli/output.js';

const now = new Date('2026-12-01T12:00:00Z');
const at = (ms: number) => new Date(now.getTime() + ms).toISOString();
const DAY = 86_400_000;

test('a time a whole number of units away, read a moment later, keeps its number', () => {
  assert.equal(relative(at(3 * DAY - 150), now), 'in 3d');
  assert.equal(relative(at(30 * DAY - 2_000), now), 'in 1mo');
  assert.equal(relative(at(-3 * DAY + 150), now), '3d ago');
});

test('otherwise whole units, counted down', () => {
  assert.equal(relative(at(2 * DAY + 20 * 3_600_000), now), 'in 2d');
  assert.equal(relative(at(5 * 3_600_000 + 50 * 60_000), now), 'in 5h');
  assert.equal(relative(at(-90_000), now), '1m ago');
  assert.equal(relative(at(400), now), 'now');
  assert.equal(relative(at(29 * DAY), now), 'in 29d');
});
