// isoString is toISOString written out for speed: it must give the same text for every date.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isoString } from '../../src/core/iso-date.js';

test('the same text as toISOString across the years 0–10000, at every padding boundary', () => {
  const edges = [
    '0000-01-01T00:00:00.000Z', '0999-12-31T23:59:59.999Z', '1000-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z',
    '2026-11-30T04:05:06.007Z', '2026-02-09T09:09:09.099Z', '2026-10-10T10:10:10.010Z', '2028-02-29T12:00:00.100Z',
    '9999-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z', '-000001-06-15T00:00:00.000Z',
  ].map((text) => new Date(text));
  // A fixed-step walk instead of random dates: the same cases every run.
  const walk = Array.from({ length: 20_000 }, (_, i) => new Date(-62_167_219_200_000 + i * 15_778_476_013));
  for (const date of [...edges, ...walk]) assert.equal(isoString(date), date.toISOString());
});

test('an invalid date throws the RangeError toISOString throws', () => {
  assert.throws(() => isoString(new Date(Number.NaN)), RangeError);
});
