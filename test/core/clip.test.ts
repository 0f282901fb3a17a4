import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipped } from '../../src/core/clip.js';

test('clipped text keeps what fits and marks a cut with …, never going over the limit', () => {
  assert.equal(clipped('short', 10), 'short');
  assert.equal(clipped('exactly10!', 10), 'exactly10!');
  assert.equal(clipped('one character too long', 10), 'one chara…');
  assert.equal(clipped('one character too long', 10).length, 10);
});
