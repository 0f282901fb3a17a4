// Shared set-up for the PIV tests: temp folders, small git repositories, the scripted fake agent
// driven through the real ClaudeCodeRunner, and a `ps` check for processes left behind.
import type { TestContext } from 'node:test';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ClaudeCodeRunner } from '../../src/agent/agent.js';

const run = promisify(execFile);

export const FAKE_AGENT = fileURLToPath(new URL('../fakes/agent/fake-agent.mjs', import.meta.url));
export const AUTHOR = { name: 'PIV Test', email: 'piv-test@example.invalid' };

export async function tempDir(t: TestContext, prefix = 'supervisor-piv-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** One step of the fake agent's script; see test/fakes/agent/fake-agent.mjs. */
export interface FakeStep {
  text?: string;
  result?: string;
  writes?: Record<string, string | null>;
  commit?: boolean | 'all';
  silent?: boolean;
  hang?: boolean;
  omitResult?: boolean;
  /** Print nothing and exit 0, as a command that is not Claude Code does. */
  mute?: boolean;
  isError?: boolean;
  subtype?: string;
  exitCode?: number;
  grandchild?: string;
  ignoreSigterm?: boolean;
  turns?: number;
  costUsd?: number;
}

export type FakeRule = FakeStep & { match?: string; attempts?: FakeStep[] };

export interface FakeCall {
  argv: string[];
  cwd: string;
  prompt: string;
}

export interface FakeAgent {
  runner: ClaudeCodeRunner;
  /** Every run so far, oldest first. */
  calls(): Promise<FakeCall[]>;
}

export async function fakeAgent(t: TestContext, rules: FakeRule[]): Promise<FakeAgent> {
  const dir = await tempDir(t, 'supervisor-fake-agent-');
  const script = join(dir, 'script.json');
  const log = join(dir, 'calls.jsonl');
  await writeFile(script, JSON.stringify({ log, rules }));
  const runner = new ClaudeCodeRunner({
    command: process.execPath,
    prefixArgs: [FAKE_AGENT],
    env: { ...gitEnv(), FAKE_AGENT_SCRIPT: script },
    graceMs: 500,
  });
  const calls = async () =>
    existsSync(log)
      ? (await readFile(log, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as FakeCall)
      : [];
  return { runner, calls };
}

export async function git(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd: dir, env: gitEnv() });
  return stdout.trim();
}

function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GIT_AUTHOR_NAME: AUTHOR.name,
    GIT_AUTHOR_EMAIL: AUTHOR.email,
    GIT_COMMITTER_NAME: AUTHOR.name,
    GIT_COMMITTER_EMAIL: AUTHOR.email,
  };
}

/** A repository on `main` with these files in one first commit. */
export async function gitRepo(t: TestContext, files: Record<string, string>): Promise<string> {
  const dir = await tempDir(t, 'supervisor-piv-repo-');
  await git(dir, 'init', '-q', '-b', 'main');
  await writeFiles(dir, files);
  await git(dir, 'add', '--', ...Object.keys(files));
  await git(dir, 'commit', '-q', '-m', 'first');
  return dir;
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Reads a pid a child wrote, waiting until the file holds one (it exists before it is written). */
export async function readPid(path: string): Promise<number> {
  let pid = 0;
  await waitFor(async () => {
    pid = existsSync(path) ? Number((await readFile(path, 'utf8')).trim() || 0) : 0;
    return pid > 0;
  }, `a pid in ${path}`);
  return pid;
}

/**
 * True once `pid` is gone or a zombie: a zombie is dead and only waits for a parent to reap it
 * (in a container whose init does not reap, it waits for ever).
 */
export async function processGone(pid: number): Promise<boolean> {
  try {
    const { stdout } = await run('ps', ['-o', 'stat=', '-p', String(pid)]);
    return stdout.trim() === '' || stdout.trim().startsWith('Z');
  } catch {
    return true; // ps exits 1 when no such process
  }
}

/** Waits, generously, for something that should happen promptly; fails with what it waited for. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
