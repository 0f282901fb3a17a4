// `supervisor … | head -1`: a reader that goes before the output ends. The command ends
// quietly, exit 0, instead of Node's uncaught EPIPE (a stack trace on stderr, exit 1).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, CLI_BIN, CLI_MAIN, cliEnv } from './run-cli.js';

before(assertCliBuilt);

for (const [label, program] of [
  ['the installed command', CLI_BIN],
  ['the program', CLI_MAIN],
] as const) {
  test(`${label}: output to a pipe whose reader has gone ends quietly with 0`, async (t) => {
    const home = await mkdtemp(join(tmpdir(), 'supervisor-closed-pipe-'));
    t.after(() => rm(home, { recursive: true, force: true }));
    const child = spawn(process.execPath, [program, 'completion', 'bash'], { env: cliEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader goes before the command has written anything.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
}
