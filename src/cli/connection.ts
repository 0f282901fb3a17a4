import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Invoker } from '../catalog/invoker.js';
import { dataDir, daemonTarget as findDaemon, refusedTokenInEnvTerms, startingDaemon, type DaemonTarget } from '../core/daemon-info.js';
import { SupervisorError } from '../core/errors.js';
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
 * `readOnly`: the command only reads. Without a daemon it is refused on a data dir that does not
 * exist rather than making a new install there to answer "none": a mistyped SUPERVISOR_HOME in a
 * script would read as "no secrets", exit 0.
 */
export async function openCliConnection(source: CliSource, options: { project?: string; env?: NodeJS.ProcessEnv; onLog?: (line: string) => void; readOnly?: boolean } = {}): Promise<CliConnection> {
  const env = options.env ?? process.env;
  const project = options.project && options.project !== 'meta' ? options.project : undefined;
  // Read from the manifest only for a call that goes unanswered.
  const readsOnly = async (name: string) => (await source.manifest()).commands.some((c) => c.name === name && c.readOnly);
  const throughDaemon = (d: DaemonTarget) => {
    // The daemon answers from its own config file: one this shell names is not read (config set would write the daemon's).
    const named = env.SUPERVISOR_CONFIG ? resolve(env.SUPERVISOR_CONFIG) : undefined;
    if (named && d.configFile && named !== d.configFile) options.onLog?.(`SUPERVISOR_CONFIG names ${named}, but this command goes through the running daemon, which reads ${d.configFile}`);
    return inProject({ invoker: inEnvTerms(new HttpInvoker({ baseUrl: d.url, token: d.token, project: options.project, readsOnly }), env), close: async () => undefined }, project);
  };
  const daemon = await daemonTarget(env);
  if (daemon) return throughDaemon(daemon);
  const [app, { connectLocal, refuseTokenWithoutDaemon }] = await Promise.all([source.app(), import('./connect.js')]);
  refuseTokenWithoutDaemon(env, dataDir(env));
  return localUnlessDaemonStarting<CliConnection, DaemonTarget>(
    async () => {
      const config = app.loadConfig(env);
      // With DATABASE_URL the data is elsewhere: a new data dir here holds no new, empty database.
      if (options.readOnly && !config.databaseUrl && !existsSync(config.home)) {
        throw new SupervisorError('not_found', `there is no data dir at ${config.home}, so nothing to read; is SUPERVISOR_HOME the daemon's data dir? (a daemon start, or a command that stores something, creates it)`);
      }
      return inProject(await connectLocal(app, config, project, 'cli', options.onLog), project);
    },
    () => daemonTarget(env),
    throughDaemon,
    dataDir(env),
  );
}

/** The invoker, its refusals of SUPERVISOR_TOKEN said in the environment's terms. */
export function inEnvTerms(invoker: Invoker, env: NodeJS.ProcessEnv): Invoker {
  return {
    invoke: (name, input, options) =>
      invoker.invoke(name, input, options).catch((err: unknown) => {
        throw refusedTokenInEnvTerms(err, env);
      }),
  };
}

/**
 * How long a command waits for a daemon it finds starting up (it holds the data dir until it
 * listens): a first start creates the embedded database, tens of seconds on a busy small VM.
 */
const DAEMON_START_WAIT_MS = 60_000;

const alive = (pid: unknown): boolean => {
  if (typeof pid !== 'number') return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * `local()`, unless it found the data dir held by a daemon still starting (it opens the embedded
 * database before it publishes where it listens): then wait for that daemon to come up and go
 * through it, rather than fail. systemd units and scripts start the daemon and its first clients
 * together.
 */
export async function localUnlessDaemonStarting<C, T>(local: () => Promise<C>, find: () => Promise<T | undefined>, through: (daemon: T) => Promise<C>, home: string): Promise<C> {
  // A daemon starting on PostgreSQL holds no lock: its mark says so, and opening the data dir meanwhile
  // fails for want of DATABASE_URL, or on a first start makes an embedded database nobody uses.
  const starting = await startingDaemon(home);
  const early = starting === undefined ? undefined : await daemonUp(starting, find);
  if (early) return through(early);
  try {
    return await local();
  } catch (err) {
    const details = (err as { code?: unknown; details?: { role?: unknown; pid?: unknown } }).details;
    const started = (err as { code?: unknown }).code === 'locked' && details?.role === 'daemon' ? await daemonUp(details.pid, find) : undefined;
    if (!started) throw err;
    return through(started);
  }
}

/** The daemon `find` finds once the starting process `pid` is up; undefined when it exits first or never comes up. */
async function daemonUp<T>(pid: unknown, find: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + DAEMON_START_WAIT_MS;
  // A daemon that exits (its start failed) is not waited for any longer.
  while (Date.now() < deadline && alive(pid)) {
    const found = await find();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return undefined;
}

/**
 * A connection narrowed to a project that does not exist is refused up front (a typo in
 * `--project`, or in a `claude mcp add` line): served anyway, `run` ran without the secrets it
 * was for and `mcp` filed what it wrote under a name no project has.
 */
export async function inProject<C extends CliConnection>(connection: C, project: string | undefined): Promise<C> {
  if (!project) return connection;
  try {
    await connection.invoker.invoke('get_project', { project });
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}
