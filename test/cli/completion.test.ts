/**
 * `supervisor completion bash|zsh|fish`: scripts built from the same commands the
 * CLI runs. The bash one is loaded into bash and asked what it completes.
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cliEnv, describeResult, runCli } from './run-cli.js';

describe('supervisor completion', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    assertCliBuilt();
    dir = await mkdtemp(join(tmpdir(), 'supervisor-completion-'));
    env = cliEnv(dir);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** What the bash script offers for the words typed so far (the last one being completed). */
  async function complete(words: string[]): Promise<string[]> {
    const script = join(dir, 'supervisor.bash');
    const r = await runCli(['completion', 'bash'], { env });
    assert.equal(r.code, 0, describeResult(r));
    await writeFile(script, r.stdout);
    const line = ['supervisor', ...words];
    const probe = `source ${script}; COMP_WORDS=(${line.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${line.length - 1}; _supervisor; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const bash = spawnSync('bash', ['-c', probe], { encoding: 'utf8', cwd: dir });
    assert.equal(bash.status, 0, bash.stderr);
    return bash.stdout.split('\n').filter(Boolean);
  }

  test('bash completes groups, verbs and a command\'s flags', async () => {
    assert.deepEqual(await complete(['sec']), ['secrets']);
    assert.ok((await complete([''])).includes('daemon'));
    assert.deepEqual(await complete(['secrets', 'ro']), ['rollback']);
    assert.deepEqual(await complete(['daemon', 'st']), ['status', 'stop']);
    assert.deepEqual(await complete(['secrets', 'set', 'project/x/y', '--ta']), ['--tags']);
    assert.ok((await complete(['secrets', 'list', '--'])).includes('--no-recursive'));
    assert.deepEqual(await complete(['completion', 'f']), ['fish']);
  });

  test('zsh and fish scripts name the commands; an unknown shell is a usage error', async () => {
    const zsh = await runCli(['completion', 'zsh'], { env });
    assert.match(zsh.stdout, /^#compdef supervisor/);
    assert.match(zsh.stdout, /bashcompinit/);
    const fish = await runCli(['completion', 'fish'], { env });
    assert.match(fish.stdout, /complete -c supervisor -n '__fish_seen_subcommand_from secrets; and __fish_seen_subcommand_from set' -l tags/);
    const bad = await runCli(['completion', 'tcsh'], { env });
    assert.equal(bad.code, 2, describeResult(bad));
    assert.match(bad.stderr, /completion: name a shell: bash, zsh or fish, not "tcsh"\nusage: supervisor completion <bash\|zsh\|fish>/);
  });
});
