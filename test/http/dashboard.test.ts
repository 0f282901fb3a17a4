import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal } from '../../src/core/principal.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { daemonBackend } from '../cli/run-cli.js';

// PostgreSQL when it answers; in CI a missing server fails here instead of quietly using PGlite.
const backend = await daemonBackend();
let daemon: TestDaemon;
before(async () => {
  daemon = await startTestDaemon(backend);
  await daemon.services.secrets.set(adminPrincipal('t'), { path: 'project/x/dashboard_canary', value: 'DASHBOARD-CANARY-VALUE' });
});
after(() => daemon.close());

test('the dashboard page is served without a token and holds no data', async () => {
  const res = await fetch(`${daemon.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.match(html, /<title>Supervisor<\/title>/);
  assert.ok(!html.includes('dashboard_canary') && !html.includes('DASHBOARD-CANARY-VALUE'));
});

test('the data the dashboard shows needs a token and never includes values', async () => {
  assert.equal((await fetch(`${daemon.url}/api/v1/secrets?limit=200`)).status, 401);
  const listed = await fetch(`${daemon.url}/api/v1/secrets?limit=200`, { headers: { authorization: `Bearer ${daemon.adminToken}` } });
  const text = await listed.text();
  assert.ok(text.includes('project/x/dashboard_canary'));
  assert.ok(!text.includes('DASHBOARD-CANARY-VALUE'));
});
