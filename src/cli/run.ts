import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import type { Invoker } from '../catalog/invoker.js';
import type { ErrorCode } from '../core/errors.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * The signals a terminal sends to its whole foreground process group (Ctrl-C, Ctrl-\): the command
 * runs in ours and has one already, and a second is, to many programs, "quit without cleaning up".
 */
const FROM_THE_TERMINAL = new Set<NodeJS.Signals>(['SIGINT', 'SIGQUIT']);

/** The signals that end a shell loop or job when its command dies of them, and whose default is only to end (no core dump). */
const PASSED_ON_DEATH = new Set<NodeJS.Signals>(['SIGINT', 'SIGTERM', 'SIGHUP']);

/** Whether this process has a controlling terminal, whose Ctrl-C reaches the command directly. */
function hasTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** The environment a project's command runs with, as get_run_env builds it; `say` is told of each expired secret in it. */
export async function runEnvironment(
  invoker: Invoker,
  input: { project: string; service?: string; prefix?: string; allow: string[] },
  say: (line: string) => void,
): Promise<Record<string, string>> {
  const answer = (await invoker.invoke('get_run_env', input)) as { variables: Array<{ name: string; value: string }>; expired: Array<{ name: string; path: string; expiresAt: string }> };
  for (const e of answer.expired) say(`warning: ${e.name} (${e.path}) expired at ${e.expiresAt}; the credential may no longer work`);
  return Object.fromEntries(answer.variables.map((v) => [v.name, v.value]));
}

/** The reasons a command cannot be executed, in words, with the error code `--json` gives them. */
const CANNOT_EXECUTE: Record<string, { why: string; code: ErrorCode }> = {
  EACCES: { why: 'permission denied', code: 'forbidden' },
  E2BIG: { why: 'its environment and arguments together are larger than the system allows; give it fewer or smaller secrets', code: 'invalid_input' },
};

/**
 * Runs `command` with `env` added to this process's environment, passes signals through, and
 * resolves with the exit code to use, as a shell would: the child's, 128 + signal, 127 when the
 * command is not found, 126 when it cannot be executed (`say` gets the one line explaining those
 * two, and an error code for it). A command killed by SIGINT, SIGTERM or SIGHUP takes this
 * process with it by the same signal, as the shell expects: a loop of `supervisor run` stops at
 * Ctrl-C, where an exit code of 130 reads as a command that handled it.
 */
export function runWithEnvironment(command: string, args: string[], env: Record<string, string>, say: (line: string, code: ErrorCode) => void = () => undefined): Promise<number> {
  return new Promise((resolve) => {
    const failed = (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        say(`${command}: command not found`, 'not_found');
        resolve(127);
      } else {
        const known = CANNOT_EXECUTE[err.code ?? ''];
        say(`${command}: cannot execute (${known?.why ?? err.code ?? err.message})`, known?.code ?? 'invalid_input');
        resolve(126);
      }
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    } catch (err) {
      // Some refusals come at once, not as an 'error' event: an environment or command line too large (E2BIG).
      failed(err as NodeJS.ErrnoException);
      return;
    }
    const terminal = hasTerminal();
    // Still handled (so this process waits for the command), not passed on: the terminal gave the command its own.
    const forward = (signal: NodeJS.Signals) => void (terminal && FROM_THE_TERMINAL.has(signal) ? undefined : child.kill(signal));
    for (const signal of FORWARDED) process.on(signal, forward);
    const cleanup = () => {
      for (const signal of FORWARDED) process.off(signal, forward);
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      failed(err);
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
      if (signal && PASSED_ON_DEATH.has(signal)) process.kill(process.pid, signal);
    });
  });
}
