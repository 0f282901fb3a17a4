/** One writer of a data dir's master keys at a time, across processes, surviving a kill -9 of the holder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MasterKeyDir } from '../../src/secrets/key-files.js';

const HOLDER = fileURLToPath(new URL('./key-lock-holder.ts', import.meta.url));

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-keylock-'));
  try {
    await fn(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** A child process holding the lock of `home`'s master keys. */
function holdInChild(home: string): Promise<ChildProcess> {
  const child = fork(HOLDER, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, KEY_LOCK_HOME: home }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code} before holding the lock`)));
    child.once('message', () => {
      child.removeAllListeners('exit');
      resolve(child);
    });
  });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a process waits while another process holds the master-key lock', async () => {
  await withHome(async (home) => {
    const holder = await holdInChild(home);
    let entered = false;
    const waiting = new MasterKeyDir(home).exclusive(async () => {
      entered = true;
    });
    await sleep(300);
    assert.equal(entered, false);
    holder.send('release');
    await waiting;
    assert.equal(entered, true);
    await exited(holder);
  });
});

test('the lock of a process killed with -9 is taken over', async () => {
  await withHome(async (home) => {
    const holder = await holdInChild(home);
    holder.kill('SIGKILL');
    await exited(holder);
    assert.ok(existsSync(join(home, 'keys.lock')));
    await new MasterKeyDir(home).exclusive(async () => undefined);
    assert.ok(!existsSync(join(home, 'keys.lock')));
  });
});

test('a lock naming a running pid that started at another time (a reused pid) is taken over', { skip: existsSync('/proc/1/stat') ? undefined : 'needs /proc' }, async () => {
  await withHome(async (home) => {
    await mkdir(join(home, 'keys'), { recursive: true });
    await writeFile(join(home, 'keys.lock'), JSON.stringify({ pid: 1, role: 'master keys', startedAt: '2026-01-01T00:00:00Z', processStart: 'long ago' }));
    await new MasterKeyDir(home).exclusive(async () => undefined);
  });
});
