// `supervisor daemon stop` against a daemon that takes its whole stop limit (a request still
// waiting on Cloudflare, say): it waits for the daemon to exit, which it does at that limit,
// rather than giving up at the same moment and telling the person to `kill -9` it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { daemonStop } from '../../src/cli/daemon-control.js';
import { daemonInfoDir, daemonInfoFile } from '../../src/core/daemon-info.js';
import { processStart } from '../../src/core/process-info.js';

// A stand-in with a 2 s limit rather than the real 30 s: the same wait, measured from the limit, without holding a test slot idle for half a minute.
const STOP_LIMIT_S = 2;

test('daemon stop waits out a daemon that uses its whole stop limit, and says it stopped', { timeout: 30_000 }, async () => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-stop-'));
  // Stands in for a daemon whose stop runs into its limit: SIGTERM starts the stop, the limit ends
  // the process, a little late as a busy event loop runs the limit's timer.
  const exitAfterMs = STOP_LIMIT_S * 1000 + 500;
  const slow = spawn(process.execPath, ['-e', `process.on('SIGTERM', () => setTimeout(() => process.exit(1), ${exitAfterMs})); setInterval(() => {}, 1000);`], { stdio: 'ignore' });
  const previousHome = process.env.SUPERVISOR_HOME;
  try {
    const pid = slow.pid!;
    let started: string | undefined;
    for (let i = 0; i < 50 && !(started = processStart(pid)); i++) await delay(20);
    await mkdir(daemonInfoDir(home), { recursive: true });
    await writeFile(daemonInfoFile(home, pid), JSON.stringify({ pid, processStart: started, url: 'http://127.0.0.1:1', token: 'local' }), { mode: 0o600 });
    await delay(200); // the stand-in has its SIGTERM handler

    process.env.SUPERVISOR_HOME = home;
    const out: string[] = [];
    const err: string[] = [];
    const code = await daemonStop([], false, { write: (t) => void out.push(t) }, { write: (t) => void err.push(t) }, STOP_LIMIT_S);

    assert.equal(code, 0, err.join(''));
    assert.match(out.join(''), new RegExp(`stopped the daemon \\(pid ${pid}\\)`));
    assert.doesNotMatch(err.join(''), /kill -9/);
  } finally {
    if (previousHome === undefined) delete process.env.SUPERVISOR_HOME;
    else process.env.SUPERVISOR_HOME = previousHome;
    slow.kill('SIGKILL');
    await rm(home, { recursive: true, force: true });
  }
});
