import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Invoker } from '../catalog/invoker.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** The environment a project's command runs with, as get_run_env builds it. */
export async function runEnvironment(invoker: Invoker, input: { project: string; service?: string; prefix?: string; allow: string[] }): Promise<Record<string, string>> {
  const answer = (await invoker.invoke('get_run_env', input)) as { variables: Array<{ name: string; value: string }> };
  return Object.fromEntries(answer.variables.map((v) => [v.name, v.value]));
}

/**
 * Runs `command` with `env` added to this process's environment, passes signals
 * through, and resolves with the exit code to use: the child's, or 128 + signal.
 */
export function runWithEnvironment(command: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of FORWARDED) process.on(signal, forward);
    const cleanup = () => {
      for (const signal of FORWARDED) process.off(signal, forward);
    };
    child.on('error', (err) => {
      cleanup();
      reject(err);
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0));
    });
  });
}
