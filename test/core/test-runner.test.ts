/**
 * The runner's summary line is what CI reads: a suite skipped whole (PostgreSQL
 * unreachable outside CI) must show up with every one of its tests counted as skipped,
 * not as one line, and not vanish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

test('every test of a suite skipped whole is counted, nested and generated ones too, and the suite is named', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, TEST_DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test', SUPERVISOR_TEST_BACKENDS: 'pglite,postgres' };
  delete env.CI;
  delete env.SUPERVISOR_TEST_COUNT_ONLY;
  // This file runs under node's runner, which marks its processes; the runner started here must run as a top-level one.
  delete env.NODE_TEST_CONTEXT;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/test.mjs', 'test/core/data/skipped-suites.fixture.ts'], { env, timeout: 120_000 });
  const lines = stdout.trimEnd().split('\n');
  // pglite: 1 + 5 pass; postgres: its 5 tests skipped.
  assert.equal(lines.at(-1), '6 passed, 0 failed, 5 skipped');
  assert.match(stdout, /skipped whole suites: storage \[postgres\] \(5 tests: PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test is not reachable/);
});
