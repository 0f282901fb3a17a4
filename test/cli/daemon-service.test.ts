/**
 * The daemon as a service, as its owner runs it: `npm start` stopped by SIGTERM
 * while it serves secret reads leaves no process, no lock and no daemon.json, and
 * every read it acknowledged is in the audit log; `supervisor daemon status` and
 * `daemon stop`; `supervisor service install` writes a unit systemd accepts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { STATUS_FIELDS } from '../../src/cli/daemon-control.js';
import { DAEMON_NODE_FLAGS } from '../../src/cli/entry.js';
import { BUILTINS } from '../../src/cli/help.js';
import { unitFile } from '../../src/cli/service.js';
import { readDaemonInfo } from '../../src/core/daemon-info.js';
import { schemaLockKey } from '../../src/core/schema-lock.js';
import { CLI_ROLE } from '../../src/core/datadir.js';
import { tryLockFile } from '../../src/core/lock-file.js';

/** What a running daemon keeps in daemons/ (its <pid>.json, a starting mark): last-address outlives it. */
const daemonFiles = (home: string) => readdirSync(join(home, 'daemons')).filter((name) => name !== 'last-address');
import pg from 'pg';
import { skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { assertCliBuilt, CLI_MAIN, cliEnv, describeResult, parseJson, REPO_ROOT, runCli, startCli, type CliProcess } from './run-cli.js';

const stillRuns = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

test('daemon status --help lists every field -f prints', () => {
  const help = BUILTINS.find((b) => b.group === 'daemon' && b.verb === 'status')!.help;
  assert.deepEqual(STATUS_FIELDS.filter((field) => !new RegExp(`\\b${field}\\b`).test(help)), []);
});

describe('the daemon as a service', () => {
  let home: string;
  let env: Record<string, string>;
  before(async () => {
    assertCliBuilt();
    home = await mkdtemp(join(tmpdir(), 'supervisor-service-'));
    env = cliEnv(home, { SUPERVISOR_PORT: '0' });
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('npm start, reads under load, SIGTERM: no process left, lock and daemon.json gone, every acknowledged read audited', async (t) => {
    const status0 = await runCli(['daemon', 'status'], { env });
    assert.equal(status0.code, 3, describeResult(status0));
    assert.match(status0.stdout, /^not running/);

    // At the default log level, as a person starts it: the banner must not be buried in routine lines.
    const npm = spawn('npm', ['start', '--silent'], { cwd: REPO_ROOT, env: { ...env, SUPERVISOR_LOG_LEVEL: 'info', npm_config_update_notifier: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let banner = '';
    npm.stdout.setEncoding('utf8').on('data', (chunk: string) => (banner += chunk));
    npm.stderr.setEncoding('utf8').on('data', (chunk: string) => (banner += chunk));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    // A failed assertion must not leave the daemon running (npm passes SIGTERM on to it).
    t.after(() => void (npm.exitCode === null && npm.kill('SIGTERM')));
    await waitFor('the banner', () => /Stop: Ctrl-C/.test(banner), 120_000);
    assert.doesNotMatch(banner, /npx supervisor/);
    // Tightening the modes of the files PGlite made is routine at every start, not news.
    assert.doesNotMatch(banner, /permissions off files/);

    const status = await runCli(['daemon', 'status', '--json'], { env });
    assert.equal(status.code, 0, describeResult(status));
    const facts = parseJson(status) as { running: boolean; pid: number; url: string; database: string; version: string; uptimeSeconds: number };
    assert.equal(facts.running, true);
    assert.equal(facts.database, 'pglite');
    assert.match(facts.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(typeof facts.uptimeSeconds, 'number');
    const human = await runCli(['daemon', 'status'], { env });
    assert.match(human.stdout, new RegExp(`^pid: +${facts.pid}$`, 'm'));
    const daemonPid = facts.pid;
    // npm start runs node with the daemon's flags (DAEMON_NODE_FLAGS), as the systemd unit does.
    const cmdline = (await readFile(`/proc/${daemonPid}/cmdline`, 'utf8')).split('\0');
    assert.deepEqual(cmdline.slice(1, 1 + DAEMON_NODE_FLAGS.length), [...DAEMON_NODE_FLAGS], cmdline.join(' '));

    const set = await runCli(['secrets', 'set', 'project/load/key'], { env, stdin: 'v' });
    assert.equal(set.code, 0, describeResult(set));
    const { token } = (await readDaemonInfo(home))!;
    let acknowledged = 0;
    let stop = false;
    const reader = async () => {
      while (!stop) {
        try {
          const response = await fetch(`${facts.url}/api/v1/call/get_secret`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'project/load/key' }) });
          if (response.status === 200 && ((await response.json()) as { value?: string }).value === 'v') acknowledged++;
          else stop = true;
        } catch {
          stop = true;
        }
      }
    };
    const readers = Array.from({ length: 8 }, reader);
    await waitFor('some reads', () => acknowledged >= 50);
    npm.kill('SIGTERM');
    await Promise.all(readers);
    assert.equal(await exited, 0, banner);
    await waitFor('the daemon process to exit', () => !stillRuns(daemonPid), 30_000);
    assert.deepEqual(daemonFiles(home), [], 'its daemons/<pid>.json removed');
    assert.equal(existsSync(join(home, 'supervisor.lock')), false, 'lock released');
    assert.match(banner, /supervisor daemon stopped \(SIGTERM\)/);

    // The data dir opens again (no daemon): every read that was answered is in the audit log.
    const audit = await runCli(['audit', 'list', 'project/load/key', '--all', '--json'], { env });
    assert.equal(audit.code, 0, describeResult(audit));
    const reads = (parseJson(audit).items as Array<{ action: string; outcome: string }>).filter((row) => row.action === 'secret.read' && row.outcome === 'ok');
    assert.ok(reads.length >= acknowledged, `${acknowledged} reads answered, ${reads.length} audited`);
  });

  test('SIGHUP (its terminal closing) stops the daemon as cleanly as SIGTERM, from the first line it prints: exit 0, no daemon file left', async () => {
    const daemon = startCli(['daemon'], { env, timeoutMs: 120_000 });
    // Its first line already means a stop is heard: waiting for the last ("Stop: …") left a moment, on a busy machine, when SIGHUP ended it uncleanly.
    await daemon.waitForStdout(/^Supervisor daemon on /m, 120_000);
    daemon.child.kill('SIGHUP');
    const result = await daemon.result;
    assert.equal(result.code, 0, describeResult(result));
    assert.match(result.stderr, /supervisor daemon stopped \(SIGHUP\)/);
    assert.deepEqual(daemonFiles(home), []);
  });

  test('a daemon that runs but does not answer (stopped, hung) is said to be so by status, exit 1, not blamed on the database', async (t) => {
    const daemon = startCli(['daemon'], { env, timeoutMs: 120_000 });
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill('SIGKILL')));
    await daemon.waitForStdout(/Stop: Ctrl-C/, 120_000);
    const pid = daemon.child.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      const status = await runCli(['daemon', 'status'], { env, timeoutMs: 30_000 });
      assert.equal(status.code, 1, describeResult(status));
      assert.match(status.stdout, /^status: +running, not answering \(no answer from http:\/\/127\.0\.0\.1:\d+\/readyz within 5 s\)$/m);
      assert.doesNotMatch(status.stdout, /database not ready/);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const answering = await runCli(['daemon', 'status', '-f', 'answering'], { env });
    assert.deepEqual([answering.code, answering.stdout], [0, 'true']);
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.result).code, 0);
  });

  test("a daemon left running across a rebuild is told apart: status shows its build and says to restart it", async (t) => {
    const daemon = startCli(['daemon'], { env, timeoutMs: 120_000 });
    t.after(() => void (daemon.child.exitCode === null && daemon.child.kill('SIGKILL')));
    await daemon.waitForStdout(/Stop: Ctrl-C/, 120_000);
    const own = (JSON.parse(await readFile(join(REPO_ROOT, 'dist', 'build.json'), 'utf8')) as { id: string }).id;
    const current = parseJson(await runCli(['daemon', 'status', '--json'], { env }));
    assert.deepEqual([current.build, current.currentBuild], [own, true]);

    // What the daemon file says once `npm install` has rebuilt dist/ under it: an older build.
    const file = join(home, 'daemons', `${daemon.child.pid}.json`);
    const info = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...info, build: '0123456789ab', builtAt: '2000-01-01T00:00:00.000Z' }));
    const stale = await runCli(['daemon', 'status'], { env });
    assert.equal(stale.code, 0, describeResult(stale));
    assert.match(stale.stdout, new RegExp(`^build: +0123456789ab, not this command's \\(${own}\\): it started before the code was rebuilt .*restart it`, 'm'));
    assert.equal((await runCli(['daemon', 'status', '-f', 'currentBuild'], { env })).stdout, 'false');
    // A command from an older checkout than the daemon's is told so, not to restart the newer daemon.
    await writeFile(file, JSON.stringify({ ...info, build: '0123456789ab', builtAt: '2999-01-01T00:00:00.000Z' }));
    const older = await runCli(['daemon', 'status'], { env });
    assert.match(older.stdout, /^build: +0123456789ab, not this command's \(\w+\): this command is from an older build than the daemon; use the newer checkout's supervisor$/m);
    // Without the times (a daemon of an earlier version), neither is said to be the newer.
    await writeFile(file, JSON.stringify({ ...info, build: '0123456789ab', builtAt: undefined }));
    assert.match((await runCli(['daemon', 'status'], { env })).stdout, /^build: +0123456789ab, not this command's \(\w+\): if this command's code is the newer/m);
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.result).code, 0);
  });

  test('daemon stop sends SIGTERM and waits until the daemon has exited; status then says not running', async () => {
    const daemon = startCli(['daemon'], { env, timeoutMs: 120_000 });
    await daemon.waitForStdout(/Stop: Ctrl-C/, 120_000);
    // A second daemon on the embedded database is told one already runs, not to retry.
    const second = await runCli(['daemon'], { env, timeoutMs: 60_000 });
    assert.notEqual(second.code, 0, describeResult(second));
    assert.match(second.stderr, /^supervisor: locked: .* in use by daemon .*; a daemon already runs on this data dir \(`supervisor daemon status` shows its address\), and the embedded database serves one; run several daemons on PostgreSQL/);
    // One field raw, for scripts (as -f prints an operation's).
    const pid = await runCli(['daemon', 'status', '-f', 'pid'], { env });
    const url = (await runCli(['daemon', 'status', '-f', 'url'], { env })).stdout;
    assert.deepEqual([pid.code, pid.stdout], [0, String(daemon.child.pid)]);
    const unknown = await runCli(['daemon', 'status', '--field', 'colour'], { env });
    assert.equal(unknown.code, 2, describeResult(unknown));
    assert.match(unknown.stderr, /--field colour: not a field; its fields: running, starting, pid, /);
    const stop = await runCli(['daemon', 'stop'], { env });
    assert.equal(stop.code, 0, describeResult(stop));
    assert.match(stop.stdout, /^stopped the daemon \(pid \d+\)\n$/);
    const result = await daemon.result;
    assert.equal(result.code, 0, describeResult(result));
    assert.deepEqual(daemonFiles(home), []);
    // Where it listened is kept: a command run while it is down writes MCP links that lead there.
    assert.equal(await readFile(join(home, 'daemons', 'last-address'), 'utf8'), `${url}\n`);
    const status = await runCli(['daemon', 'status'], { env });
    assert.equal(status.code, 3, describeResult(status));
    const field = await runCli(['daemon', 'status', '-f', 'running'], { env });
    assert.deepEqual([field.code, field.stdout], [3, 'false']);
    const again = await runCli(['daemon', 'stop'], { env });
    assert.equal(again.code, 0, describeResult(again));
    assert.equal(again.stdout, 'not running\n');
  });
});

describe('a daemon whose port is taken', () => {
  test('says which port and what to do, as a conflict, not an internal error', async () => {
    assertCliBuilt();
    const home = await mkdtemp(join(tmpdir(), 'supervisor-port-taken-'));
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const r = await runCli(['daemon'], { env: cliEnv(home, { SUPERVISOR_PORT: String(port) }), timeoutMs: 120_000 });
      assert.notEqual(r.code, 0, describeResult(r));
      assert.match(r.stderr, new RegExp(`^supervisor: conflict: port ${port} on 127\\.0\\.0\\.1 is in use .*start on another port with SUPERVISOR_PORT`));
    } finally {
      squatter.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('a daemon on an address this host does not have', () => {
  test('names the host setting and what to use, not an internal error', async () => {
    assertCliBuilt();
    const home = await mkdtemp(join(tmpdir(), 'supervisor-bad-host-'));
    try {
      // 192.0.2.1 is TEST-NET-1: no host has it.
      const r = await runCli(['daemon'], { env: cliEnv(home, { SUPERVISOR_HOST: '192.0.2.1', SUPERVISOR_PORT: '0' }), timeoutMs: 120_000 });
      assert.equal(r.code, 1, describeResult(r));
      assert.match(r.stderr, /^supervisor: invalid_input: setting host \(SUPERVISOR_HOST\) is invalid: 192\.0\.2\.1 is not an address of this host \(EADDRNOTAVAIL\); use 127\.0\.0\.1, ::1, 0\.0\.0\.0 or an address of this host/);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("a daemon on a port allocated to a service", () => {
  test('says so in its banner, and how to settle it', async () => {
    assertCliBuilt();
    const home = await mkdtemp(join(tmpdir(), 'supervisor-port-held-'));
    const env = cliEnv(home);
    try {
      // A free port of meta's range (3000-3099), allocated to a service while nothing listens on it.
      const web = parseJson(await runCli(['port', 'allocate', 'meta', 'web', '--json'], { env })) as { port: number };
      const daemon = startCli(['daemon'], { env: { ...env, SUPERVISOR_PORT: String(web.port) }, timeoutMs: 120_000 });
      try {
        await daemon.waitForStdout(/Stop: Ctrl-C/, 120_000);
        assert.match(daemon.stdout(), new RegExp(`^Warning: this daemon's port ${web.port} is not reserved for it: it is allocated to meta/web; start the daemon on another port \\(SUPERVISOR_PORT\\), or give meta/web another`, 'm'));
      } finally {
        daemon.child.kill('SIGTERM');
        await daemon.result;
      }
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('a command run while the daemon starts', () => {
  test('waits for it and goes through it, instead of failing on the data dir it holds', async () => {
    assertCliBuilt();
    const home = await mkdtemp(join(tmpdir(), 'supervisor-starting-'));
    const env = cliEnv(home, { SUPERVISOR_PORT: '0' });
    // A first start creates the embedded database: seconds during which the daemon holds the data dir and listens nowhere yet.
    const daemon = startCli(['daemon'], { env, timeoutMs: 120_000 });
    try {
      await waitFor('the daemon to take the data dir', () => existsSync(join(home, 'supervisor.lock')), 60_000);
      const r = await runCli(['secrets', 'list', '--json'], { env, timeoutMs: 120_000 });
      assert.equal(r.code, 0, describeResult(r));
      // The daemon holds the data dir, so the answer came through it; it prints its banner once its start
      // returns, which can be just after it first answered.
      await daemon.waitForStdout(/Supervisor daemon on/, 10_000);
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.result;
      await rm(home, { recursive: true, force: true });
    }
  });
});

/**
 * A daemon starting on a schema of its own, DATABASE_URL only in its environment (as a unit file
 * gives it), held in its start by what `hold` takes before it runs (released by what it returns);
 * `use` gets it once its starting mark is there.
 */
async function startingOnPostgres(
  prefix: string,
  hold: (at: { home: string; url: string }) => Promise<() => Promise<unknown>>,
  use: (started: { home: string; daemon: CliProcess; release: () => Promise<unknown> }) => Promise<void>,
): Promise<void> {
  assertCliBuilt();
  const home = await mkdtemp(join(tmpdir(), `supervisor-${prefix}-`));
  const schema = `t_${prefix.replace(/-/g, '_')}_${randomBytes(4).toString('hex')}`;
  const url = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const release = await hold({ home, url });
  const daemon = startCli(['daemon'], { env: cliEnv(home, { SUPERVISOR_PORT: '0', DATABASE_URL: url }), timeoutMs: 120_000 });
  try {
    await waitFor('the daemon to mark itself starting', () => existsSync(join(home, 'daemons', `${daemon.child.pid}.starting`)), 30_000);
    await use({ home, daemon, release });
  } finally {
    await release().catch(() => undefined);
    daemon.child.kill('SIGTERM');
    await daemon.result;
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await rm(home, { recursive: true, force: true });
  }
}

/** Holds the schema's migration lock: the daemon's start waits in its migrations, after its mark. */
async function holdMigrations({ url }: { url: string }): Promise<() => Promise<unknown>> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query(`SELECT pg_advisory_xact_lock(${schemaLockKey('migrations')})`);
  return () => holder.end();
}

describe('a daemon starting on PostgreSQL', { skip: await skipReason('postgres') }, () => {
  test('a command run meanwhile waits for it by its starting mark (no lock says so) and goes through it, without DATABASE_URL of its own', () =>
    startingOnPostgres('starting-pg', holdMigrations, async ({ home, daemon, release }) => {
      const command = runCli(['secrets', 'list', '--json'], { env: cliEnv(home), timeoutMs: 60_000 });
      await delay(1_500);
      await release();
      const r = await command;
      assert.equal(r.code, 0, describeResult(r));
      assert.deepEqual(parseJson(r).items, []);
      assert.equal(existsSync(join(home, 'daemons', `${daemon.child.pid}.starting`)), false, 'the mark goes once the daemon is up');
      assert.equal(existsSync(join(home, 'db')), false, 'no embedded database was made meanwhile');
    }));

  test('status says it is starting (exit 3); stop waits for the start to finish, then stops it cleanly', () =>
    startingOnPostgres('stop-starting', holdMigrations, async ({ home, daemon, release }) => {
      const status = await runCli(['daemon', 'status'], { env: cliEnv(home) });
      assert.equal(status.code, 3, describeResult(status));
      assert.match(status.stdout, new RegExp(`^starting \\(pid ${daemon.child.pid}, data dir .*\\): not answering yet`));
      assert.equal(parseJson(await runCli(['daemon', 'status', '--json'], { env: cliEnv(home) })).starting, daemon.child.pid);
      const stop = runCli(['daemon', 'stop', '--json'], { env: cliEnv(home), timeoutMs: 60_000 });
      await delay(1_000);
      await release();
      const stopped = await stop;
      assert.equal(stopped.code, 0, describeResult(stopped));
      assert.deepEqual(parseJson(stopped).pids, [daemon.child.pid]);
      const result = await daemon.result;
      assert.equal(result.code, 0, describeResult(result));
      assert.match(result.stderr, /SIGTERM while starting; it stops once started/);
      assert.match(result.stderr, /supervisor daemon stopped \(SIGTERM\)/);
    }));

  test('it waits for a command holding the data dir before it chooses its database, so the command cannot make an embedded one behind its back', () =>
    startingOnPostgres(
      'choosing',
      // As a command run without the daemon holds it while it works on the embedded database.
      async ({ home }) => {
        const held = await tryLockFile(join(home, 'supervisor.lock'), CLI_ROLE);
        assert.ok('held' in held);
        return () => held.held.release();
      },
      async ({ home, daemon, release }) => {
        await delay(1_000);
        assert.equal(existsSync(join(home, 'postgres.json')), false, 'the database is not chosen while the command holds the data dir');
        await release();
        await daemon.waitForStdout(/Supervisor daemon on/, 60_000);
        assert.equal(existsSync(join(home, 'postgres.json')), true);
      },
    ));
});

describe('supervisor service install', () => {
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    assertCliBuilt();
    dir = await mkdtemp(join(tmpdir(), 'supervisor-unit-'));
    env = { ...cliEnv(join(dir, 'data dir')), HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), USER: 'someone' };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const unitPath = () => join(dir, 'config', 'systemd', 'user', 'supervisor.service');

  test('writes a user unit: absolute node and entry, the data dir, restart on failure, no secrets; prints the systemctl commands', async () => {
    const r = await runCli(['service', 'install'], { env });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /systemctl --user daemon-reload\n {2}systemctl --user enable --now supervisor/);
    assert.match(r.stdout, /loginctl enable-linger someone/);
    const unit = await readFile(unitPath(), 'utf8');
    assert.ok(unit.includes(`ExecStart=${[process.execPath, ...DAEMON_NODE_FLAGS, CLI_MAIN].join(' ')} daemon\n`), unit);
    assert.match(unit, /^Environment="SUPERVISOR_HOME=.*\/data dir"$/m);
    // The daemon finds `claude`, git and cloudflared where this shell does.
    assert.ok(unit.includes(`\nEnvironment=PATH=${process.env.PATH}\n`), unit);
    assert.match(unit, /^Restart=on-failure$/m);
    assert.match(unit, /^KillSignal=SIGTERM$/m);
    assert.match(unit, /^WantedBy=default\.target$/m);
    assert.doesNotMatch(unit, /svt_|TOKEN|MASTER_KEY|DATABASE_URL|password/i);
    assert.equal((await runCli(['service', 'install'], { env })).stdout.split('\n')[0], `unchanged ${unitPath()}`);
  });

  test('a data dir with $ and % in its name: Environment= takes $ as it is (systemd expands no variables there), % is doubled everywhere', () => {
    const home = '/srv/we ird$HOME%h"q';
    const unit = unitFile(home, '/home/u/.local/bin:/opt/a b/bin:/usr/bin');
    assert.match(unit, /^Environment="SUPERVISOR_HOME=\/srv\/we ird\$HOME%%h\\"q"$/m);
    assert.doesNotMatch(unit.split('\n').find((l) => l.startsWith('Environment='))!, /\$\$/);
    assert.match(unit, /^Environment="PATH=\/home\/u\/\.local\/bin:\/opt\/a b\/bin:\/usr\/bin"$/m);
    assert.doesNotMatch(unitFile(home, undefined), /PATH=/, 'no PATH line when the shell has none');
  });

  test('the unit passes systemd-analyze verify (structure checked instead when systemd-analyze is not installed)', async (t) => {
    const unit = await readFile(unitPath(), 'utf8');
    const sections = [...unit.matchAll(/^\[(\w+)\]$/gm)].map((m) => m[1]);
    assert.deepEqual(sections, ['Unit', 'Service', 'Install']);
    const analyze = spawnSync('systemd-analyze', ['verify', unitPath()], { encoding: 'utf8' });
    if (analyze.error) {
      t.diagnostic('systemd-analyze is not installed: checked the structure only');
      return;
    }
    assert.equal(analyze.status, 0, `${analyze.stdout}${analyze.stderr}`);
    assert.equal(analyze.stderr.trim(), '', analyze.stderr);
  });

  test('settings this shell sets for the daemon are named, since the unit does not carry them', async () => {
    const r = await runCli(['service', 'install', '--force'], { env: { ...env, DATABASE_URL: 'postgres://db/x', SUPERVISOR_MASTER_KEY: 'k'.repeat(64), SUPERVISOR_URL: 'http://127.0.0.1:1' } });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^warning: the unit does not carry DATABASE_URL, SUPERVISOR_LOG_LEVEL, SUPERVISOR_MASTER_KEY from this shell\. Put settings in the config file/m);
    assert.doesNotMatch(r.stdout, /kkkk|postgres:\/\/db/, 'names only, never values');
    // --print keeps stdout the unit alone, and says it on stderr.
    const printed = await runCli(['service', 'install', '--print'], { env: { ...env, DATABASE_URL: 'postgres://db/x' } });
    assert.equal(printed.code, 0, describeResult(printed));
    assert.match(printed.stdout, /^\[Unit\]/);
    assert.doesNotMatch(printed.stdout, /warning/);
    assert.match(printed.stderr, /^warning: the unit does not carry DATABASE_URL, SUPERVISOR_LOG_LEVEL from this shell\./);
  });

  test('a different unit already there is kept unless --force; --print writes nothing', async () => {
    await writeFile(unitPath(), '[Service]\nExecStart=/bin/true\n');
    const refused = await runCli(['service', 'install'], { env });
    assert.equal(refused.code, 1, describeResult(refused));
    assert.match(refused.stderr, /exists and differs from the unit for this install; compare with `supervisor service install --print`, then add --force/);
    const printed = await runCli(['service', 'install', '--print'], { env });
    assert.equal(printed.code, 0);
    assert.match(printed.stdout, /^\[Unit\]/);
    assert.equal(await readFile(unitPath(), 'utf8'), '[Service]\nExecStart=/bin/true\n');
    const forced = await runCli(['service', 'install', '--force'], { env });
    assert.equal(forced.code, 0, describeResult(forced));
    assert.equal(await readFile(unitPath(), 'utf8'), printed.stdout);
  });
});

describe('two daemons sharing one data dir over PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let home: string;
  let env: Record<string, string>;
  let schema: string;
  before(async () => {
    assertCliBuilt();
    home = await mkdtemp(join(tmpdir(), 'supervisor-shared-home-'));
    schema = `t_shared_${process.pid}_${randomBytes(3).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    env = cliEnv(home, { SUPERVISOR_PORT: '0', DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}` });
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  });

  test('the newer one stopping leaves the older one found by status, the CLI and the relay; daemon stop stops both', async () => {
    const first = startCli(['daemon'], { env, timeoutMs: 120_000 });
    await first.waitForStdout(/Stop: Ctrl-C/, 120_000);
    const second = startCli(['daemon'], { env, timeoutMs: 120_000 });
    await second.waitForStdout(/Stop: Ctrl-C/, 120_000);
    const both = parseJson(await runCli(['daemon', 'status', '--json'], { env })) as { pid: number; others: Array<{ pid: number }> };
    assert.deepEqual([both.pid, both.others.map((o) => o.pid)], [second.child.pid, [first.child.pid]], 'the newer is the one commands go through');

    second.child.kill('SIGTERM');
    assert.equal((await second.result).code, 0);
    const left = await runCli(['daemon', 'status', '--json'], { env });
    assert.equal(left.code, 0, describeResult(left));
    assert.deepEqual([(parseJson(left) as { pid: number }).pid, (parseJson(left) as { others: unknown[] }).others], [first.child.pid, []]);
    // A command goes through the daemon still running (its actor is the local credential's, via the daemon).
    const set = await runCli(['secrets', 'set', 'project/shared/key'], { env, stdin: 'v' });
    assert.equal(set.code, 0, describeResult(set));

    const third = startCli(['daemon'], { env, timeoutMs: 120_000 });
    await third.waitForStdout(/Stop: Ctrl-C/, 120_000);
    const stop = await runCli(['daemon', 'stop', '--json'], { env });
    assert.equal(stop.code, 0, describeResult(stop));
    assert.deepEqual((parseJson(stop) as { pids: number[] }).pids.sort(), [first.child.pid, third.child.pid].sort());
    // Laid out as status's and every other command's --json answer.
    for (const answer of [left, stop]) assert.equal(answer.stdout, `${JSON.stringify(JSON.parse(answer.stdout), null, 2)}\n`);
    assert.deepEqual([(await first.result).code, (await third.result).code], [0, 0]);
    assert.deepEqual(daemonFiles(home), []);
    assert.equal((await runCli(['daemon', 'status'], { env })).code, 3);
  });
});
