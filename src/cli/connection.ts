import type { Invoker } from '../catalog/invoker.js';
import { dataDir, daemonTarget as findDaemon, type DaemonTarget } from '../core/daemon-info.js';
import { HttpInvoker } from './http-invoker.js';
import type { CliSource } from './manifest.js';

export { dataDir };

/** The daemon to talk to (see core's daemonTarget), under this environment's data dir. */
export function daemonTarget(env: NodeJS.ProcessEnv = process.env): Promise<DaemonTarget | undefined> {
  return findDaemon(env, dataDir(env));
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
  const [app, { connectLocal, refuseTokenWithoutDaemon }] = await Promise.all([source.app(), import('./connect.js')]);
  refuseTokenWithoutDaemon(env, dataDir(env));
  const project = options.project && options.project !== 'meta' ? options.project : undefined;
  return connectLocal(app, app.loadConfig(env), project, 'cli');
}
