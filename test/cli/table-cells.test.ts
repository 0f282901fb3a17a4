// What a table cell shows for values that are not plain text: an object as name=value pairs
// (not JSON), fractions to three decimals, words by commas and sentences by semicolons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { table } from '../../src/cli/output.js';

const style = { now: new Date('2026-11-29T12:00:00Z'), units: {} };
const cells = (row: Record<string, unknown>) => table([row], Object.keys(row), style, false).split('\n')[1]!.split(/\s{2,}/);

test('an object in a cell is its fields as name=value; a fraction is rounded for reading; lists of words and of sentences read apart', () => {
  assert.deepEqual(cells({ name: 'web', cpu: { average: 41.25, max: 97 } }), ['web', 'average=41.25 max=97']);
  assert.deepEqual(cells({ type: 'build', successRate: 9 / 11 }), ['build', '0.818']);
  assert.deepEqual(cells({ tags: ['db', 'prod'], notes: ['directory /srv/x does not exist on this host yet', 'port range 3500-3599'] }), [
    'db,prod',
    'directory /srv/x does not exist on this host yet; port range 3500-3599',
  ]);
});

test('a list of objects in a cell shows each one\'s values once, leaving lists nested inside them to --json', () => {
  const socket = { address: '0.0.0.0', pid: 11150, command: 'node server.js', processes: [{ pid: 11150, command: 'node server.js' }, { pid: 11151, command: 'node server.js' }] };
  assert.deepEqual(cells({ port: 3001, sockets: [socket] }), ['3001', '0.0.0.0 11150 node server.js']);
});
