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
