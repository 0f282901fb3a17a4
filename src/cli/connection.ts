import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Invoker } from '../catalog/invoker.js';
import { readDaemonInfo, type DaemonInfo } from '../core/daemon-info.js';
import { HttpInvoker } from './http-invoker.js';
import type { CliSource } from './manifest.js';

/** The data dir as every command finds it: SUPERVISOR_HOME, else ~/.local/share/supervisor. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.SUPERVISOR_HOME || join(homedir(), '.local/share/supervisor'));
}

/** The daemon to talk to: SUPERVISOR_URL + SUPERVISOR_TOKEN, else the live daemon that wrote daemon.json. */
export async function daemonTarget(env: NodeJS.ProcessEnv = process.env): Promise<Pick<DaemonInfo, 'url' | 'token'> | undefined> {
  if (env.SUPERVISOR_URL) return { url: env.SUPERVISOR_URL.replace(/\/$/, ''), token: env.SUPERVISOR_TOKEN ?? '' };
  const info = await readDaemonInfo(dataDir(env));
  return info && { url: info.url.replace(/\/$/, ''), token: info.token };
}

export interface CliConnection {
  invoker: Invoker;
  close(): Promise<void>;
}

/**
 * A command's way to the operations: through the daemon when it runs (loading
 * nothing more), else the app opened in this process under the data dir's lock.
 */
export async function openCliConnection(source: CliSource, options: { project?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliConnection> {
  const env = options.env ?? process.env;
  const daemon = await daemonTarget(env);
  if (daemon) {
    return { invoker: new HttpInvoker({ baseUrl: daemon.url, token: daemon.token, project: options.project }), close: async () => undefined };
  }
  const [app, { connectLocal }] = await Promise.all([source.app(), import('./connect.js')]);
  const project = options.project && options.project !== 'meta' ? options.project : undefined;
  return connectLocal(app, app.loadConfig(env), project, 'cli');
}
