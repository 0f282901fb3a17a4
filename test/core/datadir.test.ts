import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataDirFiles, ensureDataDir, lockDataDir, markStarting, readDaemonInfo, removeDaemonInfo, tightenDataDir, writeDaemonInfo } from '../../src/core/datadir.js';
import { startingDaemon } from '../../src/core/daemon-info.js';
import { processStart } from '../../src/core/process-info.js';
import { assertCliBuilt, cliEnv, describeResult, runCli } from '../cli/run-cli.js';

const homes: string[] = [];
const newHome = async () => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-datadir-'));
  homes.push(home);
  return home;
};
after(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

/** Every mode under `dir` with group or other bits. */
async function openModes(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (((await stat(path)).mode & 0o077) !== 0) found.push(path);
  }
  return found;
}

describe('the data dir', () => {
  test('an existing dir others may enter is closed to 0700; files of an older install lose group and other bits', async () => {
    const home = await newHome();
    await chmod(home, 0o755);
    await mkdir(join(home, 'db', 'base'), { recursive: true, mode: 0o777 });
    await writeFile(join(home, 'db', 'base', '1'), 'x', { mode: 0o666 });
    await chmod(join(home, 'db', 'base', '1'), 0o666);
    await ensureDataDir(home);
    assert.equal((await stat(home)).mode & 0o777, 0o700);
    assert.ok((await tightenDataDir(home)) >= 2);
    assert.deepEqual(await openModes(home), []);
    assert.equal((await stat(join(home, 'db', 'base', '1'))).mode & 0o777, 0o600);
    assert.equal(await tightenDataDir(home), 0, 'a second start changes nothing');
  });

  test('files appearing and vanishing meanwhile (other commands trying the lock) do not fail the tightening', async () => {
    const home = await newHome();
    await ensureDataDir(home);
    for (let i = 0; i < 50; i++) await writeFile(join(home, `keep-${i}`), 'x', { mode: 0o600 });
    let churning = true;
    const churn = (async () => {
      for (let i = 0; churning && i < 5000; i++) {
        const path = join(home, `.supervisor.lock.${String(i).padStart(12, '0')}.tmp`);
        await writeFile(path, '{}');
        await rm(path, { force: true });
      }
    })();
    try {
      for (let i = 0; i < 200; i++) await tightenDataDir(home);
    } finally {
      churning = false;
      await churn;
    }
  });

  test('a daemon file whose pid now belongs to another process is stale, and the CLI works without it', async () => {
    assertCliBuilt();
    const home = await newHome();
    // A live process that is not a daemon, under the pid the daemon file names.
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await ensureDataDir(home);
      // As a daemon killed before it could remove its file leaves it: this process's start time, the other's pid.
      const started = processStart(process.pid);
      if (started === undefined) return; // no /proc: only liveness can be checked
      await mkdir(dataDirFiles(home).daemons, { recursive: true });
      await writeFile(join(dataDirFiles(home).daemons, `${other.pid}.json`), JSON.stringify({ pid: other.pid, url: 'http://127.0.0.1:9', token: 'stale', processStart: started }));
      assert.equal(await readDaemonInfo(home), undefined);
      const r = await runCli(['secrets', 'list', '--json'], { env: cliEnv(home), timeoutMs: 120_000 });
      assert.equal(r.code, 0, describeResult(r));
      // The next daemon to start clears such files, and its own stays until it stops.
      await writeDaemonInfo(home, { pid: process.pid, url: 'http://127.0.0.1:10', token: 'live' });
      // Beside it, where it listens, kept after it stops (daemons/last-address).
      assert.deepEqual(await readdir(dataDirFiles(home).daemons), [`${process.pid}.json`, 'last-address']);
      assert.equal((await readDaemonInfo(home))?.url, 'http://127.0.0.1:10');
      await removeDaemonInfo(home);
      assert.deepEqual(await readdir(dataDirFiles(home).daemons), ['last-address']);
    } finally {
      other.kill();
    }
  });

  test('a starting mark left by a daemon killed while starting (kill -9) is not a daemon starting: commands do not wait for it, and the next start clears it', async () => {
    const home = await newHome();
    await ensureDataDir(home);
    // The mark of a process that has gone, as kill -9 halfway through a start leaves it.
    const gone = spawn('true', [], { stdio: 'ignore' });
    await new Promise((resolve) => gone.once('exit', resolve));
    await mkdir(dataDirFiles(home).daemons, { recursive: true });
    await writeFile(join(dataDirFiles(home).daemons, `${gone.pid}.starting`), processStart(process.pid) ?? '');
    assert.equal(await startingDaemon(home), undefined);
    const unmark = await markStarting(home);
    assert.deepEqual(await readdir(dataDirFiles(home).daemons), [`${process.pid}.starting`]);
    assert.equal(await startingDaemon(home), process.pid);
    await unmark();
    assert.deepEqual(await readdir(dataDirFiles(home).daemons), []);
  });

  test('a copy of a data dir in use (a backup restored beside it) is not locked by the original daemon, and its daemon file does not lead there', async () => {
    const home = await newHome();
    await ensureDataDir(home);
    // This process plays the daemon on the original: it holds the lock and has published its address.
    const held = await lockDataDir(home, 'daemon');
    try {
      await writeDaemonInfo(home, { pid: process.pid, url: 'http://127.0.0.1:11', token: 'original' });
      const copy = `${home}-restored`;
      await cp(home, copy, { recursive: true });
      assert.equal(await readDaemonInfo(copy), undefined, 'the copy has no daemon running for it');
      assert.equal((await readDaemonInfo(home))?.url, 'http://127.0.0.1:11', 'the original still has');
      // Another process takes the copy's lock (this one's own pid counts as gone, so ask a child).
      const r = await runCli(['secrets', 'list', '--json'], { env: cliEnv(copy), timeoutMs: 120_000 });
      assert.equal(r.code, 0, describeResult(r));
      await rm(copy, { recursive: true, force: true });
    } finally {
      await removeDaemonInfo(home);
      await held.release();
    }
  });

  test('a daemon that died but whose parent has not collected it yet (a zombie) is not running: status says so, and the data dir is free', async () => {
    assertCliBuilt();
    const home = await newHome();
    // sh starts the "daemon" in the background, prints its pid, then becomes a sleep that never collects it.
    const parent = spawn('sh', ['-c', 'sleep 60 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString()))));
      const started = processStart(pid);
      if (started === undefined) return; // no /proc: only liveness can be checked
      await ensureDataDir(home);
      await mkdir(dataDirFiles(home).daemons, { recursive: true });
      await writeFile(join(dataDirFiles(home).daemons, `${pid}.json`), JSON.stringify({ pid, url: 'http://127.0.0.1:9', token: 'dead', processStart: started }));
      // As it holds the data dir's lock while it runs.
      await writeFile(join(home, 'supervisor.lock'), JSON.stringify({ pid, role: 'daemon', startedAt: new Date().toISOString(), processStart: started, nonce: '00' }));
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 100 && !/^\S+ \(.*\) Z/.test(await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')); i++) await delay(20);

      const status = await runCli(['daemon', 'status'], { env: cliEnv(home) });
      assert.equal(status.code, 3, describeResult(status));
      assert.match(status.stdout, /^not running/);
      const r = await runCli(['secrets', 'list', '--json'], { env: cliEnv(home), timeoutMs: 120_000 });
      assert.equal(r.code, 0, describeResult(r));
    } finally {
      parent.kill('SIGKILL');
    }
  });

  test('the CLI creates its files for its owner only (umask 077)', async () => {
    const home = await newHome();
    const r = await runCli(['secrets', 'list', '--json'], { env: cliEnv(home), timeoutMs: 120_000 });
    assert.equal(r.code, 0, describeResult(r));
    assert.deepEqual(await openModes(home), []);
  });
});
