/**
 * Runs the built CLI (`dist/cli/supervisor.cjs`, the installed bin, which hands every
 * command but a relayed `mcp` to `dist/cli/main.js`) as a child process, the way a user or
 * an agent's shell runs `supervisor`: own environment, optional stdin, and the
 * exit code, stdout and stderr collected for assertions.
 */
import { after, before } from 'node:test';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { postgresUnavailable, skipReason, type Backend } from '../helpers/db.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The program (what the systemd unit runs). */
export const CLI_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
/** The installed command (package.json bin): what people and Claude Code start. */
export const CLI_BIN = join(REPO_ROOT, 'dist', 'cli', 'supervisor.cjs');

/** For a `before` hook: the CLI tests run the compiled CLI, so it has to be built. */
export function assertCliBuilt(): void {
  for (const file of [CLI_MAIN, CLI_BIN]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` (npm install also builds it) before the CLI tests`);
  }
}

/** The environment a test's `supervisor` runs with: a data dir and quiet logs, nothing inherited that could point it elsewhere. */
export function cliEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? home,
    USER: process.env.USER ?? 'test',
    SUPERVISOR_HOME: home,
    SUPERVISOR_LOG_LEVEL: 'warn',
    ...extra,
  };
}

export interface CliOptions {
  /** Full environment of the child; build it with `cliEnv`. */
  env: Record<string, string>;
  /** Written to stdin, which is then closed. Without it stdin is closed empty (unless keepStdinOpen). */
  stdin?: string | Buffer;
  /** Leave stdin open for the caller to write (MCP over stdio). */
  keepStdinOpen?: boolean;
  /** Kill the child and fail after this long (default 60 s: a first start on a loaded machine runs initdb). */
  timeoutMs?: number;
  /** The directory it runs in (default: this process's). */
  cwd?: string;
}

export interface CliResult {
  /** Exit code, or null when the process died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcessWithoutNullStreams;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout (so far) matches, rejects if the process ends first. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves when the process has exited and its output is drained. */
  result: Promise<CliResult>;
}

/** Starts `supervisor <args...>` and returns at once; see `runCli` for the common run-to-completion case. */
export function startCli(args: string[], options: CliOptions): CliProcess {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env: options.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const l of listeners) l();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  if (options.stdin !== undefined) child.stdin.end(options.stdin);
  else if (!options.keepStdinOpen) child.stdin.end();

  const timeoutMs = options.timeoutMs ?? 60_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`supervisor ${args.join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close' (not 'exit') so stdout and stderr are complete.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const l of listeners) l();
      resolve({ code, signal, stdout, stderr });
    });
  });

  const waitForStdout = (pattern: RegExp, waitMs = timeoutMs) =>
    new Promise<void>((resolve, reject) => {
      let finished = false;
      const check = () => {
        if (pattern.test(stdout)) done();
        else if (child.exitCode !== null || child.signalCode !== null) done(new Error(`supervisor exited before printing ${pattern}\nstdout: ${stdout}\nstderr: ${stderr}`));
      };
      const timer = setTimeout(() => done(new Error(`no ${pattern} on stdout within ${waitMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), waitMs);
      function done(err?: Error) {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        listeners.delete(check);
        if (err) reject(err);
        else resolve();
      }
      listeners.add(check);
      check();
    });

  return { child, stdout: () => stdout, stderr: () => stderr, waitForStdout, result };
}

/** Runs `supervisor <args...>` to completion. */
export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Parses `--json` output, failing with the raw text when it is not JSON. */
export function parseJson(result: CliResult): Record<string, unknown> {
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

/** Asserts-friendly summary for failure messages. */
export const describeResult = (r: CliResult): string => `exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/**
 * The backend for the in-process test daemon: PostgreSQL when it answers (fast),
 * else the in-memory PGlite. In CI a missing PostgreSQL fails (see skipReason).
 */
export async function daemonBackend(): Promise<Backend> {
  await skipReason('postgres');
  return (await postgresUnavailable()) ? 'pglite' : 'postgres';
}

/** A daemon for a suite of CLI tests, the environment `supervisor` reaches it with (through its data dir), and a scratch dir. */
export interface CliDaemon {
  daemon: TestDaemon;
  env: Record<string, string>;
  dir: string;
}

/**
 * Registers the suite's before/after hooks: the CLI is built, a daemon runs with
 * `daemonEnv`, and a scratch dir exists; the fields are filled in when the suite starts.
 */
export function useCliDaemon(daemonEnv: Record<string, string> = {}): CliDaemon {
  const fixture = {} as CliDaemon;
  before(async () => {
    assertCliBuilt();
    fixture.daemon = await startTestDaemon(await daemonBackend(), daemonEnv);
    fixture.env = cliEnv(fixture.daemon.home);
    fixture.dir = await mkdtemp(join(tmpdir(), 'supervisor-cli-'));
  });
  after(async () => {
    await fixture.daemon?.close();
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
