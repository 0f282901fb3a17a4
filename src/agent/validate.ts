// Validate: the project's own checks (build, lint, typecheck, tests), run in order until one
// fails. Commands come from the call, the project's settings, or are detected here from the
// files a project already has. Each runs through /bin/sh in its own process group with a
// timeout, and its combined output is kept, bounded, for the person and for the agent's retry.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invalidInput } from '../core/errors.js';
import { readInsideIfThere } from '../core/inside.js';
import { systemClock, type Clock } from '../core/clock.js';
import { spawnGroup } from './process-group.js';
import { jsonSyntaxReason } from '../core/json-syntax.js';

export interface CommandRun {
  command: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The end of stdout and stderr, interleaved as they arrived. */
  outputTail: string;
  durationMs: number;
}

export interface ValidationReport {
  /** Every command passed: nothing `failed` and not cancelled. */
  ok: boolean;
  /** The commands that ran, in order. */
  runs: CommandRun[];
  /** The command that failed (the last that ran); absent when ok or cancelled. */
  failed?: CommandRun;
  /** Stopped by the caller's signal; the last run is the one that was stopped. */
  cancelled: boolean;
}

export interface RunValidationOptions {
  cwd: string;
  /** Per command; default 15 minutes. */
  timeoutMs?: number;
  /** Characters of output kept per command (its end); default 16,000. */
  maxOutputChars?: number;
  signal?: AbortSignal;
  clock?: Clock;
  /** Called with each command's pid (its process group's id) once it has started; must not throw. */
  onSpawn?: (pid: number) => void;
  /** Added to each command's environment (the loop's mark: LOOP_ENV). */
  env?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_OUTPUT_CHARS = 16_000;
const NPM_SCRIPTS = ['build', 'lint', 'typecheck', 'test'];
/** `check` often runs the tests (autotools, many Makefiles), so it is only used without `test`. */
const MAKE_TARGETS = ['build', 'lint', 'typecheck', 'test'];

/**
 * The commands a project's own files suggest, from the first source that has any: package.json
 * scripts, then Makefile targets, then tools configured in pyproject.toml. Empty when none do.
 */
export async function detectValidationCommands(dir: string): Promise<string[]> {
  return (await fromPackageJson(dir)) ?? (await fromMakefile(dir)) ?? (await fromPyproject(dir)) ?? [];
}

async function fromPackageJson(dir: string): Promise<string[] | undefined> {
  const text = await readInsideIfThere(dir, 'package.json', 'project directory');
  if (text === undefined) return undefined;
  let scripts: unknown;
  try {
    scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
  } catch (err) {
    throw invalidInput(`${join(dir, 'package.json')} is not valid JSON (${jsonSyntaxReason(err)}); fix it or pass the validation commands`, { dir });
  }
  if (typeof scripts !== 'object' || scripts === null) return undefined;
  const runner = packageRunner(dir);
  const found = NPM_SCRIPTS.filter((s) => isRealScript((scripts as Record<string, unknown>)[s])).map((s) => `${runner} run ${s}`);
  return found.length > 0 ? found : undefined;
}

/**
 * A script that checks something: not blank, and not the stub `npm init` writes
 * (`echo "Error: no test specified" && exit 1`), which fails every time and would fail every loop.
 */
function isRealScript(script: unknown): boolean {
  return typeof script === 'string' && script.trim() !== '' && !/no test specified/i.test(script);
}

/** The package manager whose lockfile is there, so scripts run the way the project runs them. */
function packageRunner(dir: string): string {
  if (existsSync(join(dir, 'pnpm-lock.yaml'))) return 'pnpm';
  if (existsSync(join(dir, 'yarn.lock'))) return 'yarn';
  if (existsSync(join(dir, 'bun.lockb')) || existsSync(join(dir, 'bun.lock'))) return 'bun';
  return 'npm';
}

async function fromMakefile(dir: string): Promise<string[] | undefined> {
  const text = (await readInsideIfThere(dir, 'Makefile', 'project directory')) ?? (await readInsideIfThere(dir, 'makefile', 'project directory'));
  if (text === undefined) return undefined;
  // A rule line is `target:` or `target: deps`; `x := 1` and `x ::= 1` are variables.
  const targets = new Set([...text.matchAll(/^([A-Za-z0-9_.-]+)\s*:(?![:=])/gm)].map((m) => m[1]));
  const wanted = targets.has('test') ? MAKE_TARGETS : [...MAKE_TARGETS, 'check'];
  const found = wanted.filter((t) => targets.has(t)).map((t) => `make ${t}`);
  return found.length > 0 ? found : undefined;
}

async function fromPyproject(dir: string): Promise<string[] | undefined> {
  const text = await readInsideIfThere(dir, 'pyproject.toml', 'project directory');
  if (text === undefined) return undefined;
  const has = (table: string) => new RegExp(`^\\[tool\\.${table}[.\\]]`, 'm').test(text);
  const found = [has('ruff') && 'ruff check .', has('mypy') && 'mypy .', has('pytest') && 'pytest'].filter((c): c is string => Boolean(c));
  return found.length > 0 ? found : undefined;
}


/** Runs the commands in order, stopping at the first that fails (a broken build makes the tests noise). */
export async function runValidation(commands: string[], opts: RunValidationOptions): Promise<ValidationReport> {
  const runs: CommandRun[] = [];
  for (const command of commands) {
    if (opts.signal?.aborted) return { ok: false, runs, cancelled: true };
    const run = await runCommand(command, opts);
    runs.push(run);
    if (opts.signal?.aborted) return { ok: false, runs, cancelled: true };
    if (!passed(run)) return { ok: false, runs, failed: run, cancelled: false };
  }
  return { ok: true, runs, cancelled: false };
}

function passed(run: CommandRun): boolean {
  return run.exitCode === 0 && !run.timedOut;
}

async function runCommand(command: string, opts: RunValidationOptions): Promise<CommandRun> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const keep = opts.maxOutputChars ?? DEFAULT_OUTPUT_CHARS;
  const started = clock.now().getTime();
  const proc = spawnGroup('/bin/sh', ['-c', command], { cwd: opts.cwd, env: opts.env });
  if (proc.child.pid !== undefined) opts.onSpawn?.(proc.child.pid);
  proc.child.stdin.end();
  let output = '';
  const collect = (chunk: string) => {
    output = (output + chunk).slice(-keep);
  };
  proc.child.stdout.setEncoding('utf8').on('data', collect);
  proc.child.stderr.setEncoding('utf8').on('data', collect);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    proc.stop();
  }, timeoutMs);
  const onAbort = () => proc.stop();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const exit = await proc.done;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  if (exit.spawnError !== undefined) output += `\ncould not start /bin/sh: ${exit.spawnError}`;
  if (timedOut) output += `\n[stopped after ${timeoutMs} ms]`;
  return { command, exitCode: exit.code, signal: exit.signal, timedOut, outputTail: output, durationMs: clock.now().getTime() - started };
}

/**
 * The runs as a person reads them: each command, how it ended, and the end of its output — whole,
 * or its last `keep(run)` characters. Kept as the validation-<n> artifacts and answered in a loop's status.
 */
export function formatRuns(runs: CommandRun[], keep: (run: CommandRun) => number = () => Infinity): string {
  return runs
    .map((r) => `$ ${r.command}\n(${r.timedOut ? 'stopped: too slow' : `exit ${r.signal ?? r.exitCode}`}, ${r.durationMs} ms)\n${r.outputTail.length > keep(r) ? r.outputTail.slice(-keep(r)) : r.outputTail}`)
    .join('\n');
}

/**
 * Identifies a failure so "the retry changed nothing" can be seen: the command, its exit and its
 * output with what differs between two runs of the same failure (colours, timings, timestamps,
 * temp paths, the repository's own path, addresses) taken out.
 */
export function failureSignature(run: CommandRun, dirs: string[] = []): string {
  let text = run.outputTail.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  for (const dir of dirs) text = text.split(dir).join('<dir>');
  text = text
    .replace(new RegExp(`${escapeRegExp(tmpdir())}/[^\\s/'":]*`, 'g'), '<tmp>')
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g, '<time>')
    .replace(/\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b/g, '<time>')
    .replace(/\b\d+(\.\d+)?\s?(ns|µs|us|ms|s|sec|secs|seconds|m|min|mins)\b/g, '<duration>')
    .replace(/\b0x[0-9a-f]+\b/gi, '<addr>')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return createHash('sha256').update(`${run.command}\n${run.exitCode}\n${run.timedOut}\n${text}`).digest('hex').slice(0, 16);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
