// @googleapis/compute (~72 MB) must load only when a Compute call is made, never because a
// module of the gcloud domain was imported. Checked in a fresh process, whose CommonJS module
// cache shows what was loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const script = `
import { createRequire } from 'node:module';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('@googleapis/compute'));
for (const m of ['compute', 'compute-api', 'resize', 'monitoring', 'auth', 'key', 'autoscale', 'cost', 'prices']) await import('./src/gcloud/' + m + '.ts');
const before = loaded();
const { loadComputeApi } = await import('./src/gcloud/compute-api.ts');
await loadComputeApi('http://127.0.0.1:9/');
console.log(JSON.stringify({ before, after: loaded() }));
`;

test('importing the gcloud modules does not load @googleapis/compute; the first Compute call does', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: process.cwd(), timeout: 120_000 });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'), { before: false, after: true });
});

const daemonScript = `
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('@googleapis/compute'));
const home = await mkdtemp(join(tmpdir(), 'supervisor-lazy-'));
const { loadConfig } = await import('./src/app.ts');
const { startDaemon } = await import('./src/daemon.ts');
const daemon = await startDaemon(loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '0', SUPERVISOR_LOG_LEVEL: 'error' }));
const tools = await fetch(daemon.url + '/mcp/meta', {
  method: 'POST',
  headers: { authorization: 'Bearer ' + daemon.initialAdminToken, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
  body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
}).then((r) => r.text());
const served = tools.includes('gcloud_resize_vm');
const started = loaded();
await daemon.close();
await rm(home, { recursive: true, force: true });
console.log(JSON.stringify({ served, started }));
`;

test('a daemon with the gcloud domain starts and lists its tools without loading @googleapis/compute', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', daemonScript], { cwd: process.cwd(), timeout: 120_000 });
  assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'), { served: true, started: false });
});
