// An operation failing because the database went away is logged for the operator: the caller's
// 503 alone left an outage without a trace in the daemon's log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import type { Db } from '../../src/core/db.js';
import { skipReason } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';
import { capturedLogLines, openTestServices, type TestServices } from '../helpers/services.js';

let s: TestServices;
let down = false;
// While `down`, each statement first has the server end its own session, as an administrator or a restart would.
const outage = (db: Db): Db => ({
  ...db,
  kind: db.kind,
  query: async (sql, params) => {
    if (down) await db.query('SELECT pg_terminate_backend(pg_backend_pid())');
    return db.query(sql, params);
  },
});

const skip = await skipReason('postgres');
before(async () => {
  if (!skip) s = await openTestServices('postgres', {}, { wrapDb: outage });
});
after(() => s?.close());

test('an operation the lost database fails is answered unavailable and logged as a warning with the reason', { skip }, async () => {
  const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'rest');
  await admin.invoke('list_projects', {});
  down = true;
  try {
    await assert.rejects(admin.invoke('list_projects', {}), isError('unavailable', /lost the connection to PostgreSQL/));
  } finally {
    down = false;
  }
  const warned = capturedLogLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'operation failed: unavailable');
  assert.equal(warned.length, 1, JSON.stringify(warned));
  assert.equal(warned[0]!.operation, 'list_projects');
  assert.match(String(warned[0]!.reason), /terminating connection due to administrator command/);
  assert.equal(warned[0]!.level, 40);
  await admin.invoke('list_projects', {});
});

test('an operation that needs what only the operator sets up (here the Cloudflare token) is logged as a warning too', { skip }, async () => {
  const admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'rest');
  await assert.rejects(admin.invoke('list_dns_records', { zone: 'example.com' }), isError('not_configured'));
  const warned = capturedLogLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'operation failed: not_configured');
  assert.equal(warned.at(-1)?.operation, 'list_dns_records');
  assert.match(String(warned.at(-1)?.reason), /API token/);
});
