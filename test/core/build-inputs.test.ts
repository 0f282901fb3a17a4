/**
 * `npm test` skips its build when dist/ was built from exactly the sources there are: a change
 * anywhere the build reads, or a build that failed half-way, must make it build again, or the
 * CLI and daemon tests would run yesterday's code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = resolve('scripts/build-inputs.mjs');

async function run(cwd: string, verb: string): Promise<number> {
  try {
    await promisify(execFile)(process.execPath, [SCRIPT, verb], { cwd });
    return 0;
  } catch (err) {
    return (err as { code: number }).code;
  }
}

test('dist counts as fresh only for the inputs it was built from', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'supervisor-build-inputs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'src/core'), { recursive: true });
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'src/core/a.ts'), 'export const a = 1;\n');
  await writeFile(join(dir, 'package-lock.json'), '{}\n');

  assert.equal(await run(dir, 'fresh'), 1, 'never built');
  assert.equal(await run(dir, 'write'), 0);
  assert.equal(await run(dir, 'fresh'), 0, 'built from these inputs');

  await writeFile(join(dir, 'src/core/a.ts'), 'export const a = 2;\n');
  assert.equal(await run(dir, 'fresh'), 1, 'a source changed');
  await writeFile(join(dir, 'src/core/a.ts'), 'export const a = 1;\n');
  assert.equal(await run(dir, 'fresh'), 0, 'changed back');

  await writeFile(join(dir, 'src/core/b.ts'), '');
  assert.equal(await run(dir, 'fresh'), 1, 'a source added, even an empty one');
  await run(dir, 'write');
  await writeFile(join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
  assert.equal(await run(dir, 'fresh'), 1, 'the dependencies changed');

  await run(dir, 'write');
  assert.equal(await run(dir, 'clear'), 0);
  assert.equal(await run(dir, 'fresh'), 1, 'a build started and did not finish');
  assert.equal(await run(dir, 'bogus'), 2);
});
