/**
 * `supervisor run --project <p> -- <command>`: the command runs with the
 * project's secrets as environment variables, its exit code becomes ours, and
 * signals sent to `supervisor run` reach it.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManualClock } from '../../src/core/clock.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { CLI_MAIN, describeResult, runCli, startCli, useCliDaemon } from './run-cli.js';
import { within } from '../helpers/wait.js';
import { addProject } from '../helpers/projects.js';

const admin = adminPrincipal('test-setup');

describe('supervisor run', () => {
  const t = useCliDaemon();

  before(async () => {
    for (const name of ['x', 'other', 'clash', 'hijack']) await t.daemon.services.projects.add('test', { name });
    const set = (path: string, value: string) => t.daemon.services.secrets.set(admin, { path, value });
    await set('project/x/database_url', 'postgres://u:p@db/x');
    await set('project/x/api_token', 'tok "quoted" $and\nnewline');
    await set('project/x/nested/smtp-password', 'hunter2');
    await set('project/other/database_url', 'not for x');
    // Two paths that both become TOKEN.
    await set('project/clash/a/token', 'one');
    await set('project/clash/b/token', 'two');
  });

  test("the command sees the project's secrets as variables and its exit code is returned", async () => {
    const script = `
      const pick = ['DATABASE_URL', 'API_TOKEN', 'SMTP_PASSWORD'];
      process.stdout.write(JSON.stringify(Object.fromEntries(pick.map((k) => [k, process.env[k]]))));
      process.exit(7);`;
    const r = await runCli(['run', '--project', 'x', '--', process.execPath, '-e', script], { env: t.env });
    assert.equal(r.code, 7, describeResult(r));
    assert.deepEqual(JSON.parse(r.stdout), {
      DATABASE_URL: 'postgres://u:p@db/x',
      API_TOKEN: 'tok "quoted" $and\nnewline',
      // The last path segment, upper-cased, with characters a variable name cannot hold turned into _.
      SMTP_PASSWORD: 'hunter2',
    });
  });

  test("the command keeps the caller's environment and sees no other project's secrets", async () => {
    const script = `process.stdout.write(JSON.stringify({ mine: process.env.MY_SETTING, db: process.env.DATABASE_URL }))`;
    const r = await runCli(['run', '--project', 'x', '--', process.execPath, '-e', script], { env: { ...t.env, MY_SETTING: 'kept' } });
    assert.equal(r.code, 0, describeResult(r));
    assert.deepEqual(JSON.parse(r.stdout), { mine: 'kept', db: 'postgres://u:p@db/x' });
  });

  test('two secrets that give the same variable name are an error and the command never starts', async () => {
    const marker = join(t.dir, 'clash-started');
    const script = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'started')`;
    const r = await runCli(['run', '--project', 'clash', '--', process.execPath, '-e', script], { env: t.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /^supervisor: conflict: project\/clash\/a\/token and project\/clash\/b\/token both become the variable TOKEN/);
    assert.equal(existsSync(marker), false, 'the command must not have run');
  });

  test('--service sets PORT to that service\'s port (reserved on first use) and <SERVICE>_PORT for the others', async () => {
    await addProject(t.daemon.services, 'test-setup', { name: 'x' });
    const worker = await t.daemon.services.ports.allocate(admin, { project: 'x', service: 'worker' });
    const script = `process.stdout.write(JSON.stringify({ PORT: process.env.PORT, API_PORT: process.env.API_PORT, WORKER_PORT: process.env.WORKER_PORT }));`;
    const r = await runCli(['run', '--project', 'x', '--service', 'api', '--', process.execPath, '-e', script], { env: t.env });
    assert.equal(r.code, 0, describeResult(r));
    const seen = JSON.parse(r.stdout) as Record<string, string>;
    const api = await t.daemon.services.ports.allocate(admin, { project: 'x', service: 'api' });
    assert.deepEqual(seen, { PORT: String(api.port), API_PORT: String(api.port), WORKER_PORT: String(worker.port) });
  });

  test('a secret that would take over the process (PATH, LD_PRELOAD) stops the command from starting, unless allowed', async () => {
    await t.daemon.services.secrets.set(admin, { path: 'project/hijack/path', value: t.dir });
    const marker = join(t.dir, 'hijack-started');
    const script = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, process.env.PATH)`;
    const refused = await runCli(['run', '--project', 'hijack', '--', process.execPath, '-e', script], { env: t.env });
    assert.equal(refused.code, 1, describeResult(refused));
    assert.match(refused.stderr, /^supervisor: forbidden: secrets may not set PATH \(from project\/hijack\/path\).*: `--allow PATH`\n$/);
    // secrets env (the same refusal) is told the same flag, for either command.
    const env = await runCli(['secrets', 'env', 'hijack'], { env: t.env });
    assert.match(env.stderr, /allow it explicitly: `--allow PATH` \(supervisor run, `supervisor secrets env`\)\n$/, describeResult(env));
    // Errors name the command typed, not the operation behind it.
    const bad = await runCli(['run', '--project', 'hijack', '--allow', 'path', '--', 'true'], { env: t.env });
    assert.match(bad.stderr, /^supervisor: invalid_input: invalid input for `supervisor run`: --allow \(item 1\): a variable name such as PATH/);
    assert.equal(existsSync(marker), false, 'the command must not have run');
    const allowed = await runCli(['run', '--project', 'hijack', '--allow', 'PATH', '--', process.execPath, '-e', script], { env: t.env });
    assert.equal(allowed.code, 0, describeResult(allowed));
    assert.equal(await readFile(marker, 'utf8'), t.dir);
  });

  test('a command that is not found exits 127, one that cannot be executed 126, as a shell says', async () => {
    const missing = await runCli(['run', '--project', 'x', '--', 'no-such-command-here'], { env: t.env });
    assert.equal(missing.code, 127, describeResult(missing));
    assert.equal(missing.stderr, 'supervisor: run: no-such-command-here: command not found\n');
    const notExecutable = join(t.dir, 'not-executable.sh');
    await writeFile(notExecutable, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const refused = await runCli(['run', '--project', 'x', '--', notExecutable], { env: t.env });
    assert.equal(refused.code, 126, describeResult(refused));
    assert.equal(refused.stderr, `supervisor: run: ${notExecutable}: cannot execute (permission denied)\n`);
  });

  test('an environment larger than the system allows exits 126 with the reason, not as an internal error', async () => {
    await t.daemon.services.projects.add('test', { name: 'big' });
    for (let i = 0; i < 40; i++) await t.daemon.services.secrets.set(admin, { path: `project/big/k${i}`, value: 'v'.repeat(65_000) });
    const r = await runCli(['run', '--project', 'big', '--', 'true'], { env: t.env });
    assert.equal(r.code, 126, describeResult(r));
    assert.equal(r.stderr, 'supervisor: run: true: cannot execute (its environment and arguments together are larger than the system allows; give it fewer or smaller secrets)\n');
  });

  test('a secret whose expiresAt has passed is still given, with a warning on stderr naming it', async () => {
    await t.daemon.services.projects.add('test', { name: 'lapsed' });
    const clock = t.daemon.services.clock as ManualClock;
    const expiresAt = new Date(clock.now().getTime() + 1000);
    await t.daemon.services.secrets.set(admin, { path: 'project/lapsed/short_token', value: 'tmp-cred', expiresAt });
    clock.advance(2000);
    const r = await runCli(['run', '--project', 'lapsed', '--', process.execPath, '-e', 'process.stdout.write(process.env.SHORT_TOKEN)'], { env: t.env });
    clock.advance(-2000);
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stdout, 'tmp-cred');
    assert.equal(r.stderr, `supervisor: run: warning: SHORT_TOKEN (project/lapsed/short_token) expired at ${expiresAt.toISOString()}; the credential may no longer work\n`);
  });

  test('with --json, run\'s own lines are JSON on stderr too: a command not found is an error document, an expired secret a warnings document', async () => {
    const missing = await runCli(['run', '--project', 'x', '--json', '--', 'no-such-command-here'], { env: t.env });
    assert.equal(missing.code, 127, describeResult(missing));
    assert.deepEqual(JSON.parse(missing.stderr), { error: { code: 'not_found', message: 'run: no-such-command-here: command not found' } });
    await t.daemon.services.projects.add('test', { name: 'lapsedjson' });
    const clock = t.daemon.services.clock as ManualClock;
    await t.daemon.services.secrets.set(admin, { path: 'project/lapsedjson/tok', value: 'v', expiresAt: new Date(clock.now().getTime() + 1000) });
    clock.advance(2000);
    const warned = await runCli(['run', '--project', 'lapsedjson', '--json', '--', 'true'], { env: t.env });
    clock.advance(-2000);
    assert.equal(warned.code, 0, describeResult(warned));
    assert.match((JSON.parse(warned.stderr) as { warnings: string[] }).warnings[0]!, /^run: warning: TOK \(project\/lapsedjson\/tok\) expired at /);
  });

  test('a project that does not exist is refused and the command never starts', async () => {
    const r = await runCli(['run', '--project', 'nosuchx', '--', process.execPath, '-e', 'process.stdout.write("ran")'], { env: t.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /not_found: no project nosuchx/);
  });

  test('a command line without -- <command> is a usage error', async () => {
    const r = await runCli(['run', '--project', 'x'], { env: t.env });
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /usage: supervisor run --project <name> \[--service <name>\] \[--prefix <path>\] \[--allow NAME,...\] -- <command>/);
  });

  test('a command that dies of SIGINT takes supervisor run with it by SIGINT, so a shell loop stops at Ctrl-C', async () => {
    const r = await runCli(['run', '--project', 'x', '--', process.execPath, '-e', "process.kill(process.pid, 'SIGINT')"], { env: t.env });
    assert.equal(r.signal, 'SIGINT', describeResult(r));
    // A crash is not passed on: the shell gets 128 + n, and no core of supervisor.
    const crashed = await runCli(['run', '--project', 'x', '--', process.execPath, '-e', "process.kill(process.pid, 'SIGSEGV')"], { env: t.env });
    assert.deepEqual([crashed.code, crashed.signal], [139, null], describeResult(crashed));
  });

  test('Ctrl-C at a terminal reaches the command once (the terminal signals the whole group; supervisor does not send a second)', { skip: existsSync('/usr/bin/script') ? undefined : 'needs script(1) for a terminal' }, async () => {
    const counted = join(t.dir, 'sigints');
    const child = `let n = 0; process.on('SIGINT', () => { n++; require('node:fs').writeFileSync(${JSON.stringify(counted)}, String(n)); setTimeout(() => process.exit(0), 300); }); process.stdout.write('ready\\n'); setInterval(() => {}, 1000);`;
    const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
    const line = [process.execPath, CLI_MAIN, 'run', '--project', 'x', '--', process.execPath, '-e', child].map(quote).join(' ');
    // script gives supervisor a terminal; the ^C typed into it is the terminal's interrupt.
    const term = spawn('script', ['-qfc', line, '/dev/null'], { env: { ...process.env, ...t.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    term.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await within(20_000, 'the command is up', async () => out.includes('ready'));
    term.stdin.write('\u0003');
    await new Promise((resolve) => term.once('exit', resolve));
    term.stdin.destroy();
    assert.equal(await readFile(counted, 'utf8'), '1', out);
  });

  test('SIGTERM sent to supervisor run is forwarded; the exit code is the command\'s', async () => {
    const marker = join(t.dir, 'got-sigterm');
    const script = `
      process.on('SIGTERM', () => {
        require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'SIGTERM');
        process.exit(42);
      });
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`;
    const run = startCli(['run', '--project', 'x', '--', process.execPath, '-e', script], { env: t.env, timeoutMs: 15_000 });
    // Only once the command is up (and so supervisor's forwarding handlers are installed).
    await run.waitForStdout(/^ready$/m);
    run.child.kill('SIGTERM');
    const r = await run.result;
    assert.equal(r.code, 42, describeResult(r));
    assert.equal(r.signal, null, 'supervisor run itself did not die of the signal');
    assert.equal(await readFile(marker, 'utf8'), 'SIGTERM');
  });
});
