// Runs a coding agent for one phase of the loop. One interface; one implementation that drives
// Claude Code in print mode. Tests and the demo point the same implementation at a scripted fake
// (test/fakes/agent/fake-agent.mjs) that prints the same lines, so the spawning, timeout and
// kill code tested is the code that runs in production.
import { childEnvironment, spawnGroup, type GroupExit } from './process-group.js';
import { StreamJsonReader, type ResultLine, type StreamLine } from './stream-json.js';
import { commandFound } from '../core/executable.js';

/** Claude Code's permission modes (`--permission-mode`). */
export type PermissionMode = 'default' | 'acceptEdits' | 'plan' | 'bypassPermissions';

export interface AgentRunOptions {
  cwd: string;
  /** Written to the agent's stdin, so its size is not limited by the command line. */
  prompt: string;
  /** Appended to Claude Code's own system prompt (`--append-system-prompt`). */
  systemPrompt?: string;
  maxTurns?: number;
  maxBudgetUsd?: number;
  permissionMode?: PermissionMode;
  model?: string;
  allowedTools?: string[];
  /** The agent must print its first line within this long after it starts. */
  firstOutputTimeoutMs: number;
  /** After that, it must never stay silent longer than this. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
  /** Called for every line of output as it arrives; must not throw. */
  onLine?: (line: StreamLine) => void;
  /** Called once the agent has started, with its pid (also its process group's id); must not throw. */
  onSpawn?: (pid: number) => void;
  /** Added to the agent's environment (the loop's mark: LOOP_ENV). */
  env?: Record<string, string>;
}

export type AgentFailureReason =
  | 'exit_code'
  | 'is_error'
  | 'no_result'
  | 'first_output_timeout'
  | 'idle_timeout'
  | 'cancelled'
  | 'spawn_error';

export interface AgentRunResult {
  ok: boolean;
  reason?: AgentFailureReason;
  /** What went wrong, for a person; absent when ok. */
  message?: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** From the result line; 0 when there was none. */
  turns: number;
  costUsd: number;
  resultText: string;
  subtype?: string;
  sessionId?: string;
  /** Summaries of the last lines of output, oldest first. */
  lines: string[];
  /** Stderr: its first 1,000 and last 4,000 characters when longer. */
  stderr: string;
}

export interface AgentRunner {
  run(opts: AgentRunOptions): Promise<AgentRunResult>;
  /** Why no agent could be started now (its executable is missing), asked before a loop touches a checkout; undefined when it can. */
  unavailable?(): string | undefined;
}

export interface ClaudeCodeRunnerOptions {
  /** The executable; default `claude` from PATH. */
  command?: string;
  /** Arguments before Claude Code's own, e.g. the script when `command` is node. */
  prefixArgs?: string[];
  /** Added to the supervisor's environment. */
  env?: NodeJS.ProcessEnv;
  /** Between SIGTERM and SIGKILL when a run is stopped; default 3,000 ms. */
  graceMs?: number;
}

const STDERR_HEAD = 1_000;
const STDERR_TAIL = 4_000;
const MESSAGE_TEXT = 500;

/** The command line for one run; the prompt is not on it (it goes to stdin). */
export function claudeArgs(opts: Omit<AgentRunOptions, 'cwd' | 'prompt' | 'firstOutputTimeoutMs' | 'idleTimeoutMs' | 'onSpawn' | 'env'>): string[] {
  // stream-json in print mode requires --verbose; without it the CLI refuses to start.
  const args = ['-p', '--output-format', 'stream-json', '--verbose'];
  if (opts.maxTurns !== undefined) args.push('--max-turns', String(opts.maxTurns));
  if (opts.maxBudgetUsd !== undefined) args.push('--max-budget-usd', String(opts.maxBudgetUsd));
  if (opts.permissionMode !== undefined) args.push('--permission-mode', opts.permissionMode);
  if (opts.model !== undefined) args.push('--model', opts.model);
  if (opts.allowedTools?.length) args.push('--allowedTools', opts.allowedTools.join(','));
  if (opts.systemPrompt) args.push('--append-system-prompt', opts.systemPrompt);
  return args;
}

export class ClaudeCodeRunner implements AgentRunner {
  constructor(private readonly opts: ClaudeCodeRunnerOptions = {}) {}

  private get command(): string {
    return this.opts.command ?? 'claude';
  }

  unavailable(): string | undefined {
    if (commandFound(this.command, { ...childEnvironment(), ...this.opts.env })) return undefined;
    return `the agent command ${this.command} is ${this.command.includes('/') ? 'not an executable file' : 'not on the PATH of the daemon'}`;
  }

  async run(opts: AgentRunOptions): Promise<AgentRunResult> {
    const reader = new StreamJsonReader();
    if (opts.signal?.aborted) return judge(this.command, opts, { code: null, signal: null }, 'cancelled', reader, '');

    const proc = spawnGroup(this.command, [...(this.opts.prefixArgs ?? []), ...claudeArgs(opts)], {
      cwd: opts.cwd,
      env: { ...this.opts.env, ...opts.env },
      graceMs: this.opts.graceMs,
    });
    if (proc.child.pid !== undefined) opts.onSpawn?.(proc.child.pid);
    let stoppedFor: AgentFailureReason | undefined;
    const stopFor = (reason: AgentFailureReason) => {
      if (stoppedFor) return;
      stoppedFor = reason;
      proc.stop();
    };
    let timer = setTimeout(() => stopFor('first_output_timeout'), opts.firstOutputTimeoutMs);
    const onAbort = () => stopFor('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    // Its start (where a crash names its error) and its end, whatever comes in between.
    let stderrHead = '';
    let stderrTail = '';
    let stderrLength = 0;
    proc.child.stdout.setEncoding('utf8');
    proc.child.stdout.on('data', (chunk: string) => {
      clearTimeout(timer);
      if (!stoppedFor) timer = setTimeout(() => stopFor('idle_timeout'), opts.idleTimeoutMs);
      for (const line of reader.push(chunk)) opts.onLine?.(line);
    });
    proc.child.stderr.setEncoding('utf8');
    proc.child.stderr.on('data', (chunk: string) => {
      if (stderrHead.length < STDERR_HEAD) stderrHead += chunk.slice(0, STDERR_HEAD - stderrHead.length);
      stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL);
      stderrLength += chunk.length;
    });
    proc.child.stdin.end(opts.prompt);

    const exit = await proc.done;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    for (const line of reader.end()) opts.onLine?.(line);
    let stderr = stderrTail;
    if (stderrLength > STDERR_HEAD + STDERR_TAIL) stderr = `${stderrHead}\n…\n${stderrTail}`;
    // Head and tail overlap: the head, then the tail from where the head ends.
    else if (stderrLength > STDERR_TAIL) stderr = stderrHead + stderrTail.slice(STDERR_HEAD + STDERR_TAIL - stderrLength);
    return judge(this.command, opts, exit, stoppedFor, reader, stderr);
  }
}

/**
 * The exit code alone is not reliable (a run can exit 0 after an API error), so a run passes
 * only when it exited 0 and its result line reports success.
 */
function judge(
  command: string,
  opts: AgentRunOptions,
  exit: GroupExit,
  stoppedFor: AgentFailureReason | undefined,
  reader: StreamJsonReader,
  stderr: string,
): AgentRunResult {
  const result = reader.result;
  const out: AgentRunResult = {
    ok: false,
    exitCode: exit.code,
    signal: exit.signal,
    turns: result?.numTurns ?? 0,
    costUsd: result?.costUsd ?? 0,
    resultText: result?.text ?? '',
    lines: reader.tail(),
    stderr: stderr.trim(),
  };
  if (result) out.subtype = result.subtype;
  if (result?.sessionId !== undefined) out.sessionId = result.sessionId;

  const reason = failureOf(exit, stoppedFor, result);
  if (reason === undefined) return { ...out, ok: true };
  return { ...out, reason, message: describe(reason, { command, opts, exit, result, stderr: out.stderr }) };
}

function failureOf(exit: GroupExit, stoppedFor: AgentFailureReason | undefined, result: ResultLine | undefined): AgentFailureReason | undefined {
  if (stoppedFor) return stoppedFor;
  if (exit.spawnError !== undefined) return 'spawn_error';
  // The result line says why, which is more use to a person than the exit code it causes.
  if (result?.isError) return 'is_error';
  if (exit.code !== 0) return 'exit_code';
  if (result === undefined) return 'no_result';
  return undefined;
}

interface Failure {
  command: string;
  opts: AgentRunOptions;
  exit: GroupExit;
  result: ResultLine | undefined;
  stderr: string;
}

/**
 * Long stderr as its start and its end: a crash names its error first and its stack after it,
 * so the end alone lost what went wrong.
 */
function headAndTail(text: string, max: number): string {
  const trimmed = text.trim();
  if (trimmed.length <= max) return trimmed;
  const head = Math.floor(max * 0.4);
  return `${trimmed.slice(0, head)} … ${trimmed.slice(-(max - head))}`;
}

function describe(reason: AgentFailureReason, f: Failure): string {
  const stderr = f.stderr ? ` (stderr: ${headAndTail(f.stderr, MESSAGE_TEXT)})` : '';
  switch (reason) {
    case 'cancelled':
      return 'the run was cancelled; the agent and everything it started were stopped';
    case 'first_output_timeout':
      return `the agent printed nothing within ${f.opts.firstOutputTimeoutMs} ms of starting; it and everything it started were stopped`;
    case 'idle_timeout':
      return `the agent printed nothing for ${f.opts.idleTimeoutMs} ms; it and everything it started were stopped`;
    case 'spawn_error':
      return `could not start the agent command "${f.command}" (${f.exit.spawnError}); check the agent command setting`;
    case 'is_error':
      return `the agent reported an error (${f.result?.subtype}): ${(f.result?.text ?? '').slice(0, MESSAGE_TEXT) || 'no details'}`;
    case 'exit_code':
      return f.exit.signal ? `the agent was killed by ${f.exit.signal}${stderr}` : `the agent exited with code ${f.exit.code}${stderr}`;
    case 'no_result':
      return `the agent exited without a result line, so its work cannot be trusted to be complete (the loop reads the result Claude Code prints with --output-format stream-json: is agentCommand Claude Code?)${stderr}`;
  }
}
