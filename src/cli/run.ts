import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Invoker } from '../catalog/invoker.js';
import { portVariables } from '../ports/env.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/** The environment a project's command runs with: ours, plus its secrets (names from the last path segment). */
export async function projectEnvironment(invoker: Invoker, prefix: string): Promise<Record<string, string>> {
  const exported = (await invoker.invoke('export_secrets', { prefix })) as { variables: Array<{ name: string; value: string }> };
  return Object.fromEntries(exported.variables.map((v) => [v.name, v.value]));
}

/**
 * Port variables for `--service S`: the service's port (reserved on first use) as
 * PORT, and `<SERVICE>_PORT` for each of the project's services.
 */
export async function portEnvironment(invoker: Invoker, project: string, service: string): Promise<Record<string, string>> {
  await invoker.invoke('get_port', { project, service });
  const listed = (await invoker.invoke('list_ports', { project, limit: 200 })) as { items: Array<{ service: string; port: number; host: string }> };
  return portVariables(listed.items.filter((a) => a.host === 'local') as Parameters<typeof portVariables>[0], service);
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
