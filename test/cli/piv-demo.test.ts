// `npm run demo:piv`: one PIV loop end to end with the fake agent, run the way a user runs it
// (a child process), with TMPDIR pointed at an empty folder so the test sees it cleans up.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './run-cli.js';

test('npm run demo:piv runs a loop that fails validation once, retries, commits, and removes its temp dirs', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'supervisor-piv-demo-test-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'piv-demo.ts')], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmp, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

  assert.equal(code, 0, `stdout: ${out}\nstderr: ${err}`);
  assert.match(out, /\[validate\] `npm run test` exited with code 1; retry 1 of 3 follows with its output/);
  assert.match(out, /Result: succeeded on feature\/greet-people-by-name after 1 retry/);
  assert.match(out, /What fixed it: attempt 2 passed validation, changing greet\.mjs\./);
  assert.match(out, /piv_run +1 finished/);
  // tsx keeps its compile cache in TMPDIR; everything else is the demo's and must be gone.
  assert.deepEqual((await readdir(tmp)).filter((f) => !f.startsWith('tsx-')), [], 'the demo removes what it made');
});
