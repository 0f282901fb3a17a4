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

test('the favicon is served without a token, and loading it writes no audit row', async () => {
  const before = await daemon.services.audit.list({ action: 'auth.denied', limit: 200 });
  for (const path of ['/favicon.ico', '/favicon.svg']) {
    const res = await fetch(`${daemon.url}${path}`);
    // Not 401: no token is asked for, so no denial is noted (and none audited).
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(await res.text(), /^<svg /);
  }
  const html = await (await fetch(`${daemon.url}/`)).text();
  assert.match(html, /<link rel="icon" href="\/favicon\.svg"/);
  const after = await daemon.services.audit.list({ action: 'auth.denied', limit: 200 });
  assert.deepEqual(after.map((r) => r.target), before.map((r) => r.target));
  assert.ok(!after.some((r) => r.target?.includes('favicon')));
});
