// How the CLI names itself in what it prints (the daemon's banner): `supervisor` when that name
// on PATH is this checkout's command, else node and the entry by absolute path.
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commandFound, onPath } from '../../src/core/executable.js';
import { assertCliBuilt, CLI_BIN } from './run-cli.js';

// The built module: its CLI_BIN is dist/cli/supervisor.cjs, which exists (the source's is only a name).
const entry = (await import(new URL('../../dist/cli/entry.js', import.meta.url).href)) as {
  cliCommand(env: NodeJS.ProcessEnv): string;
};

test('supervisor on PATH linked to this checkout is typed as supervisor; another one, or none, gives node and the path', async (t) => {
  assertCliBuilt();
  const dir = await mkdtemp(join(tmpdir(), 'supervisor-path-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const [linked, other, empty] = [join(dir, 'linked'), join(dir, 'other'), join(dir, 'empty')] as const;
  for (const d of [linked, other, empty]) await mkdir(d);
  await symlink(CLI_BIN, join(linked, 'supervisor'));
  await writeFile(join(other, 'supervisor'), '#!/bin/sh\n');
  await chmod(join(other, 'supervisor'), 0o755);
  const byPath = `node ${CLI_BIN}`;
  assert.equal(entry.cliCommand({ PATH: `${empty}::${linked}` }), 'supervisor');
  assert.equal(entry.cliCommand({ PATH: other }), byPath);
  assert.equal(entry.cliCommand({ PATH: empty }), byPath);
  assert.equal(entry.cliCommand({}), byPath);
  // A test that throws (a missing file) is a no, as is an empty PATH entry.
  assert.equal(onPath('supervisor', () => true, { PATH: `${empty}:` }), true, 'the test decides, even for a missing file');
  assert.equal(onPath('supervisor', () => { throw new Error('no'); }, { PATH: linked }), false);
  // Found as a shell finds a command: a path as it is, a name on PATH; a folder is no executable.
  assert.equal(commandFound('supervisor', { PATH: `${empty}:${linked}` }), true);
  assert.equal(commandFound('supervisor', { PATH: empty }), false);
  assert.equal(commandFound(join(other, 'supervisor'), {}), true);
  assert.equal(commandFound(linked, { PATH: dir }), false);
});

test('the built supervisor command runs as a program of its own, without node in front', async () => {
  assertCliBuilt();
  const { stdout } = await promisify(execFile)(CLI_BIN, ['--version']);
  assert.match(stdout, /^supervisor \d+\.\d+\.\d+/);
});
