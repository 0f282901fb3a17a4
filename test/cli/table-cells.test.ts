// What a table cell shows for values that are not plain text: an object as name=value pairs
// (not JSON), fractions to three decimals, words by commas and sentences by semicolons.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { supervisor } from '../../src/app.js';
import { describeCommands } from '../../src/cli/commands.js';
import { render, table, visible } from '../../src/cli/output.js';

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

describe('a list whose shown text runs over several lines', () => {
  const manifest = describeCommands(supervisor.catalog);
  const spec = (name: string) => manifest.commands.find((c) => c.name === name)!;
  const format = { json: false, wide: false, tty: true, now: style.now };
  const note = '# Deploy\n\nRun the build first:\n\n```sh\nnpm run build\n```';

  test('is printed as records, a blank line apart, each text keeping its lines (knowledge search --with-text)', () => {
    const hit = { docId: 1, chunkId: 1, project: 'demo', title: 'How to deploy', chunk: 0, tags: [], rank: 0.8, snippet: '**Deploy** Run the build', text: note };
    const out = render(spec('search_knowledge'), { query: 'deploy', results: [hit, { ...hit, docId: 2, title: 'Rollback' }] }, format);
    assert.match(out, /^results:\n {2}docId: +1\n/m);
    assert.ok(out.includes('  text:\n    # Deploy\n\n    Run the build first:\n\n    ```sh\n    npm run build\n    ```\n\n  docId:   2\n'), out);
  });

  test('in a listing, records hold the columns the table would; text in a column not shown leaves the table as it is', () => {
    const project = { name: 'shop', description: 'The shop.\nPayments live here.', directory: '/srv/shop', createdAt: '2026-11-29T11:00:00Z' };
    const listed = render(spec('list_projects'), { items: [project], nextCursor: null }, format);
    assert.equal(listed, 'name:        shop\ndescription:\n  The shop.\n  Payments live here.\ndirectory:   /srv/shop\n');
    const tokens = render(spec('list_tokens'), { items: [{ id: 1, name: 'ci', project: 'shop', lastUsedAt: null, revokedAt: null, note: 'two\nlines' }], nextCursor: null }, format);
    assert.match(tokens, /^ID {2}NAME {2}PROJECT/);
  });
});

test('a nested list shows every field some row has, so a reason only a failed row gives is a column', () => {
  const out = render(describeCommands(supervisor.catalog).commands.find((c) => c.name === 'regenerate_instructions')!, {
    ok: false,
    results: [
      { project: 'alpha', status: 'updated', files: ['CLAUDE.md'] },
      { project: 'conc', status: 'failed', reason: 'project directory /srv/conc does not exist' },
    ],
  }, { json: false, wide: false, tty: true, now: style.now });
  assert.match(out, /^ {2}PROJECT +STATUS +FILES +REASON$/m);
  assert.match(out, /^ {2}conc +failed +- +project directory \/srv\/conc does not exist$/m);
});

test('terminal controls in text a project wrote are shown, not acted on: in cells, key: value lines, lists and raw values on a terminal', () => {
  const forged = '\u001b[2J\u001b[Hsupervisor: all secrets rotated OK\u001b[8m';
  assert.deepEqual(cells({ path: 'project/esc/k', description: forged }), ['project/esc/k', '\\x1b[2J\\x1b[Hsupervisor: all secrets rotated OK\\x1b[8m']);
  const spec = describeCommands(supervisor.catalog).commands.find((c) => c.name === 'get_secret')!;
  const answer = { path: 'project/esc/k', value: 'v', description: `title\u0007\u009b31m\r over\u202egnp.exe`, tags: ['a\u001bb'] };
  const shown = render(spec, answer, { json: false, wide: false, tty: true, now: style.now });
  assert.match(shown, /^description: title\\x07\\x9b31m\\x0d over\\u202egnp\.exe$/m);
  assert.match(shown, /^tags: +a\\x1bb$/m);
  // Line ends stay line ends, CRLF included; a raw value is exact when piped, shown when on a terminal.
  assert.equal(visible('a\r\nb\n\tc'), 'a\r\nb\n\tc');
  assert.equal(render(spec, answer, { json: false, field: 'description', wide: false, tty: false, now: style.now }), answer.description);
  assert.equal(render(spec, answer, { json: false, field: 'description', wide: false, tty: true, now: style.now }), 'title\\x07\\x9b31m\\x0d over\\u202egnp.exe\n');
  assert.equal(JSON.parse(render(spec, answer, { json: true, wide: false, tty: true, now: style.now })).description, answer.description);
});
