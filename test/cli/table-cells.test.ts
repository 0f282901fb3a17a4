// What a table cell shows for values that are not plain text: an object as name=value pairs
// (not JSON), fractions to three decimals, words by commas and sentences by semicolons.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { supervisor } from '../../src/app.js';
import { describeCommands } from '../../src/cli/commands.js';
import { render, table, visible } from '../../src/cli/output.js';
import { duration } from '../../src/cli/number-formats.js';

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

test('a long cell before the last is cut at 80 characters with …, so one long value does not widen every row; the last column and --wide keep it whole', () => {
  const feature = `Add ${'very '.repeat(60)}long feature`;
  const rows = [{ id: 'a1', feature, status: 'running' }, { id: 'b2', feature: 'Short', status: 'failed' }];
  const lines = table(rows, ['id', 'feature', 'status'], style, false).split('\n');
  assert.ok(lines.every((l) => l.length <= 2 + 2 + 80 + 2 + 7), lines.join('\n'));
  assert.equal(lines[1]!.split(/\s{2,}/)[1], `${feature.slice(0, 79)}…`);
  assert.ok(table(rows, ['id', 'feature', 'status'], style, true).includes(feature), '--wide shows it whole');
  assert.equal(table(rows, ['id', 'status', 'feature'], style, false).split('\n')[1]!.split(/\s{2,}/)[2], feature, 'last column whole');
  // A cell summing up nested rows (a check's files and their reasons) keeps its end, which is what it says.
  const files = [{ path: '/srv/projects/alpha/CLAUDE.md', state: 'stale', reason: `the layers changed since it was written (${'x'.repeat(80)})` }];
  assert.ok(table([{ project: 'alpha', files, warnings: null }], ['project', 'files', 'warnings'], style, false).includes('x'.repeat(80)));
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

describe('answers that say what they are', () => {
  const manifest = describeCommands(supervisor.catalog);
  const spec = (name: string) => manifest.commands.find((c) => c.name === name)!;
  const format = { json: false, wide: false, tty: true, now: style.now };
  const lines = (text: string) => text.trimEnd().split('\n');

  test('gcloud cost: each account a record with its VMs as a table, money in dollars with cents, right-aligned, the breakdown left to --wide', () => {
    const cost = (totalUsd: number) => ({ priceVersion: 'v1', currency: 'USD', region: 'us-central1', machineType: 'e2-medium', hourlyUsd: 0.0335, runningHours: 730, computeUsd: totalUsd - 2, diskType: 'pd-balanced', diskGb: 20, diskUsd: 2, totalUsd });
    const answer = {
      priceVersion: 'v1', asOf: '2025-01-01', currency: 'USD', monthlyUsd: 1144.5,
      accounts: [{
        account: 'main', project: 'main-prod', monthlyUsd: 1144.5, unpriced: 1,
        vms: [
          { zone: 'us-central1-a', name: 'web', status: 'RUNNING', machineType: 'e2-medium', monthlyUsd: 26.5, cost: cost(26.5) },
          { zone: 'us-central1-a', name: 'build-runner', status: 'RUNNING', machineType: 'n2-standard-32', monthlyUsd: 1118, cost: cost(1118) },
          { zone: 'us-central1-b', name: 'gpu', status: 'TERMINATED', machineType: 'a2-highgpu-1g', monthlyUsd: null, cost: null, note: 'no price for a2-highgpu-1g' },
        ],
      }],
      failed: [],
    };
    const out = render(spec('gcloud_cost'), answer, format);
    assert.match(out, /^monthlyUsd: +\$1,144\.50$/m);
    assert.deepEqual(lines(out).slice(lines(out).indexOf('  vms:') + 1), [
      '    ZONE           NAME          STATUS      MACHINE TYPE      MONTHLY  NOTE',
      '    us-central1-a  web           RUNNING     e2-medium          $26.50  -',
      '    us-central1-a  build-runner  RUNNING     n2-standard-32  $1,118.00  -',
      '    us-central1-b  gpu           TERMINATED  a2-highgpu-1g           -  no price for a2-highgpu-1g',
      'failed:       -',
    ]);
    assert.match(render(spec('gcloud_cost'), answer, { ...format, wide: true }), /^ {4}ZONE .* COST +NOTE$/m);
  });

  test('secrets due: what is due, when and why, with the deadlines it comes from', () => {
    const item = { path: 'project/shop/db', version: 3, description: null, tags: [], createdAt: '2026-09-01T00:00:00Z', updatedAt: '2026-09-01T00:00:00Z', valueChangedAt: '2026-09-01T00:00:00Z', expiresAt: null, rotationIntervalDays: 90, deletedAt: null, reasons: ['rotation_due'], state: 'due_soon', dueAt: '2026-11-30T00:00:00Z', daysLeft: 0, rotateBy: '2026-11-30T00:00:00Z' };
    assert.deepEqual(lines(render(spec('list_due_secrets'), { items: [item], nextCursor: null }, format)), [
      'PATH             STATE     DUE AT  REASONS       EXPIRES AT  ROTATE BY',
      'project/shop/db  due_soon  in 12h  rotation_due  -           in 12h',
    ]);
  });

  test('dns list names each record\'s zone', () => {
    const record = (zone: string, name: string) => ({ id: 'r1', zone, type: 'CNAME', name, content: 't.cfargotunnel.com', proxied: true, ttl: 1, comment: null, owned: true });
    assert.deepEqual(lines(render(spec('list_dns_records'), { items: [record('example.com', 'api.example.com'), record('dev.example.com', 'web.dev.example.com')], nextCursor: null }, format)), [
      'ZONE             TYPE   NAME                 CONTENT             PROXIED  OWNED',
      'example.com      CNAME  api.example.com      t.cfargotunnel.com  true     true',
      'dev.example.com  CNAME  web.dev.example.com  t.cfargotunnel.com  true     true',
    ]);
  });

  test('a dry run says what would be deleted or written, not that it was', () => {
    const record = { id: 'r1', zone: 'example.com', type: 'A', name: 'a.example.com', content: '192.0.2.1', proxied: false, ttl: 1, comment: null, owned: true };
    const outcome = (applied: boolean) => ({ plan: { create: [], update: [], delete: [record], unchanged: 0, conflicts: [] }, applied, failed: [], notChecked: [] });
    const dry = render(spec('delete_dns_record'), { hostname: 'a.example.com', deleted: 1, ...outcome(false) }, format);
    assert.match(dry, /^would delete: 1$/m);
    assert.doesNotMatch(dry, /^deleted:/m);
    assert.match(render(spec('delete_dns_record'), { hostname: 'a.example.com', deleted: 1, ...outcome(true) }, format), /^deleted: +1$/m);
    const cname = render(spec('create_cname'), { hostname: 'a.example.com', changed: true, record, ...outcome(false) }, format);
    assert.match(cname, /^would change: true$/m);
    assert.match(cname, /^would write:$/m);
    const sync = (dryRun: boolean) => ({ ok: true, tunnelId: 't1', mode: 'remote', where: '/accounts/a/cfd_tunnel/t1/configurations', dryRun, routes: { add: [], remove: [], change: [], conflicts: [], kept: 0 }, changed: true, written: !dryRun, restarted: false, dns: outcome(!dryRun), warnings: [] });
    const route = render(spec('add_tunnel_route'), { created: true, ...sync(true) }, format);
    assert.match(route, /^would create: +true$/m);
    assert.doesNotMatch(route, /^created:/m);
    assert.match(render(spec('add_tunnel_route'), { created: true, ...sync(false) }, format), /^created: +true$/m);
    assert.match(render(spec('remove_tunnel_route'), { removed: true, ...sync(true) }, format), /^would remove: +true$/m);
  });

  test('tasks stats: finished count, success rate as a percentage, durations in units a person reads', () => {
    const group = { type: 'build', project: 'shop', count: 11, succeeded: 9, failed: 2, cancelled: 1, running: 0, successRate: 9 / 11, meanMs: 7_380_000, p50Ms: 65_000, p90Ms: 850 };
    assert.deepEqual(lines(render(spec('get_task_stats'), { groups: [group, { ...group, type: 'lint', count: 0, succeeded: 0, failed: 0, successRate: null, meanMs: null, p50Ms: null, p90Ms: null }] }, format)), [
      'groups:',
      '  TYPE   PROJECT  FINISHED  SUCCEEDED  FAILED  CANCELLED  RUNNING  SUCCESS RATE    MEAN     P50    P90',
      '  build  shop           11          9       2          1        0         81.8%  2h 03m  1m 05s  850ms',
      '  lint   shop            0          0       0          1        0             -       -       -      -',
    ]);
    assert.deepEqual([0, 999.6, 1_500, 59_960, 3_599_600, 90_000_000].map(duration), ['0ms', '1s', '1.5s', '1m 00s', '1h 00m', '1d 01h']);
  });
});

test("a list inside an answer leaves out a column that is an empty list in every row, so a refused project's reason is the last column, shown whole; --wide keeps every column", () => {
  const cmd = describeCommands(supervisor.catalog).commands.find((c) => c.name === 'regenerate_instructions')!;
  const reason = `/srv/shop/CLAUDE.md was edited by hand inside the managed block (markers on lines 1 and 44); nothing was written. Regenerate with adopt: true`;
  const answer = { ok: false, counts: { updated: 0, unchanged: 0, refused: 1, failed: 0, skipped: 0 }, results: [{ project: 'shop', status: 'refused', reason, warnings: [] }] };
  const out = render(cmd, answer, { json: false, wide: false, tty: true, now: style.now });
  assert.match(out, /^ {2}PROJECT {2}STATUS {3}REASON$/m);
  assert.ok(out.includes(reason), out);
  assert.match(render(cmd, answer, { json: false, wide: true, tty: true, now: style.now }), /REASON +WARNINGS/);
  // A list some row fills stays a column.
  const warned = { ...answer, results: [...answer.results, { project: 'web', status: 'updated', files: [], warnings: ['a long line'] }] };
  assert.match(render(cmd, warned, { json: false, wide: false, tty: true, now: style.now }), /WARNINGS/);
});
