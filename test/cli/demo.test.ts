// `npm run demo -- --once`: the fake Cloudflare and Google and the real daemon in a temp data
// dir, one sync, one auto-scaler run, a summary, and everything removed again. Run the way a user does (a child process),
// with HOME and TMPDIR pointed at an empty folder so the test can see what it left behind,
// and the daemon's port taken so the fallback to a free port is exercised too.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEMO } from '../fakes/cloudflare/main.js';
import { REPO_ROOT } from './run-cli.js';

const TIMEOUT_MS = 90_000;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function runDemo(env: Record<string, string>): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'demo.ts'), '--once'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not finish within ${TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

let scratch: string;
let busy: Server;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'supervisor-demo-test-'));
  busy = createServer();
  await new Promise<void>((resolve, reject) => {
    busy.once('error', reject);
    busy.listen(0, '127.0.0.1', () => resolve());
  });
});
after(async () => {
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  await rm(scratch, { recursive: true, force: true });
});

test('npm run demo -- --once syncs two hostnames through the fake Cloudflare, prints them, and cleans up', { timeout: TIMEOUT_MS + 10_000 }, async () => {
  const takenPort = (busy.address() as { port: number }).port;
  const home = join(scratch, 'home');
  const tmp = join(scratch, 'tmp');
  await Promise.all([mkdir(home), mkdir(tmp)]);

  const run = await runDemo({ PATH: process.env.PATH ?? '', HOME: home, TMPDIR: tmp, SUPERVISOR_PORT: String(takenPort) });
  const report = `exit ${run.code ?? run.signal}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`;
  assert.equal(run.code, 0, report);

  const out = run.stdout;
  const target = `${DEMO.tunnelId}.cfargotunnel.com`;
  for (const hostname of ['api.demo.example.com', 'web.demo.example.com']) {
    assert.match(out, new RegExp(`${hostname.replaceAll('.', '\\.')} +→ http://localhost:\\d+`), `ingress rule for ${hostname}\n${report}`);
    assert.match(out, new RegExp(`CNAME +${hostname.replaceAll('.', '\\.')} +→ ${target.replaceAll('.', '\\.')}`), `CNAME for ${hostname}\n${report}`);
  }
  assert.match(out, /legacy\.example\.com +→ http:\/\/localhost:8080/, `the hand-written rule is kept\n${report}`);
  assert.match(out, /decision: up e2-medium → e2-standard-2, resized/, `the auto-scaler resized the busy VM\n${report}`);
  assert.match(out, /step: +stop supervisor-vm: DONE[\s\S]*step: +setMachineType supervisor-vm: DONE[\s\S]*step: +start supervisor-vm: DONE/, report);
  assert.match(out, /The VM is now RUNNING on e2-standard-2; estimated monthly cost \$[\d.]+ → \$[\d.]+/, report);
  for (const command of ['tunnel sync --plan', 'autoscale history', 'tunnel add docs.demo.example.com --port', 'dns list', 'cloudflare changes']) {
    assert.ok(out.includes(`supervisor ${command}`), `suggests supervisor ${command}\n${report}`);
  }

  // The daemon's preferred port was taken: it fell back to a free one.
  const url = /Daemon: +(http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
  assert.ok(url, report);
  assert.notEqual(Number(url[2]), takenPort);

  // The data dir was a fresh temp dir, named in the output, and is gone; HOME was not touched.
  const dataDir = /Data dir: +(\S+)/.exec(out)?.[1];
  assert.ok(dataDir, report);
  assert.ok(dataDir.startsWith(tmp), `data dir ${dataDir} under TMPDIR ${tmp}`);
  assert.ok(out.includes(`export SUPERVISOR_HOME=${dataDir}`), report);
  assert.equal(existsSync(dataDir), false, `${dataDir} still exists`);
  // (tsx keeps its compile cache in TMPDIR too.)
  assert.deepEqual((await readdir(tmp)).filter((name) => !name.startsWith('tsx-')), []);
  assert.deepEqual(await readdir(home), []);
});
