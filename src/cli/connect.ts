import { adminPrincipal, localActor, projectPrincipal, type Principal } from '../core/principal.js';
import type { Invoker } from '../catalog/invoker.js';
import type { Via } from '../catalog/operation.js';
import { RemoteInvoker } from '../catalog/remote-invoker.js';
import type { AppDefinition } from '../catalog/wire.js';
import type { Config } from '../core/config.js';
import { daemonTarget, type DaemonTarget } from '../core/daemon-info.js';
import { CLI_ROLE, ensureDataDir, lockDataDir, tightenDataDir } from '../core/datadir.js';
import { SupervisorError } from '../core/errors.js';
import { META } from '../core/names.js';
import { inEnvTerms, inProject, localUnlessDaemonStarting } from './connection.js';

export interface Connection {
  mode: 'daemon' | 'local';
  principal: Principal;
  invoker: Invoker;
  close(): Promise<void>;
}

/**
 * How the CLI and the stdio MCP adapter reach the services: through the running
 * daemon (SUPERVISOR_URL + SUPERVISOR_TOKEN, or the daemons/<pid>.json it published),
 * else in this process, under the data dir's exclusive lock when the database is
 * embedded. `project` narrows the scope to one project (`meta` = admin).
 */
export async function connect(app: AppDefinition, config: Config, options: { project?: string; via: Via; env?: NodeJS.ProcessEnv }): Promise<Connection> {
  const env = options.env ?? process.env;
  const project = options.project && options.project !== META ? options.project : undefined;
  return inProject(await reach(app, config, project, options.via, env), project);
}

async function reach(app: AppDefinition, config: Config, project: string | undefined, via: Via, env: NodeJS.ProcessEnv): Promise<Connection> {
  const daemon = await daemonTarget(env, config.home);
  if (daemon) return throughDaemon(daemon, project, via, env);
  refuseTokenWithoutDaemon(env, config.home);
  return localUnlessDaemonStarting(
    () => connectLocal(app, config, project, via),
    () => daemonTarget(env, config.home),
    (started) => throughDaemon(started, project, via, env),
    config.home,
  );
}

async function throughDaemon(daemon: DaemonTarget, project: string | undefined, via: Via, env: NodeJS.ProcessEnv): Promise<Connection> {
  const invoker = inEnvTerms(new RemoteInvoker({ baseUrl: daemon.url, token: daemon.token, via, project }), env);
  const me = (await invoker.invoke('get_identity', {})) as { role: 'admin' | 'project'; project: string; actor: string };
  const principal = me.role === 'admin' ? adminPrincipal(me.actor) : projectPrincipal(me.project, me.actor);
  return { mode: 'daemon', principal, invoker, close: async () => undefined };
}

/**
 * Without a daemon a command opens the data dir itself, as its owner (admin). A token in the
 * environment asked for that token's scope, which only a daemon can check: acting as the owner
 * instead would widen the scope in silence.
 */
export function refuseTokenWithoutDaemon(env: NodeJS.ProcessEnv, home: string): void {
  if (!env.SUPERVISOR_TOKEN) return;
  throw new SupervisorError(
    'unavailable',
    `SUPERVISOR_TOKEN is set, but no daemon runs for ${home} to check it; start the daemon (\`supervisor daemon\`), set SUPERVISOR_URL to where it runs, or unset SUPERVISOR_TOKEN to act as the owner of the data dir`,
  );
}

/**
 * `onLog` gets each log line as a sentence (the CLI shows them as warnings, held with --json so
 * stderr stays one JSON document); without it they go to stderr as JSON, as the daemon's do.
 */
export async function connectLocal(app: AppDefinition, config: Config, project: string | undefined, via: Via, onLog?: (line: string) => void): Promise<Connection> {
  // Loaded here so commands served by the daemon never pay for the database drivers.
  const [{ openDatabase }, { createLogger }, { LocalInvoker }] = await Promise.all([
    import('../core/open-db.js'),
    import('../core/log.js'),
    import('../catalog/local-invoker.js'),
  ]);
  await ensureDataDir(config.home);
  const lock = config.databaseUrl ? undefined : await lockDataDir(config.home, via === 'mcp' ? 'supervisor mcp' : CLI_ROLE);
  try {
    const level = config.logLevel === 'info' ? 'warn' : config.logLevel;
    const log = createLogger(level, onLog ? { write: (line: string) => onLog(logSentence(line)) } : undefined);
    const services = await app.open({ config, db: await openDatabase(config, app.domains), log, longRunning: false });
    // PGlite gives the files it creates mode 0666 whatever the umask; the data dir is 0700 anyway.
    if (!config.databaseUrl) await tightenDataDir(config.home);
    await noteDisagreements(services);
    const principal = project ? projectPrincipal(project, `${localActor()}@${project}`) : adminPrincipal(localActor());
    return {
      mode: 'local',
      principal,
      // At the command line the person is told the error itself; a stdio MCP session's stderr is a log nobody reads at the time.
      invoker: new LocalInvoker(services, principal, via, { callerIsOperator: via === 'cli' }),
      async close() {
        await services.close();
        await lock?.release();
      },
    };
  } catch (err) {
    await lock?.release();
    throw err;
  }
}

/** When the environment and the config file disagree (DATABASE_URL above all), say which one this command used. */
async function noteDisagreements(services: { serviceOf(id: string): unknown }): Promise<void> {
  let store: { disagreements(): Promise<string[]> } | undefined;
  try {
    store = services.serviceOf('settings') as { disagreements(): Promise<string[]> };
  } catch {
    return; // an app without the settings domain (tests)
  }
  for (const line of await store.disagreements()) process.stderr.write(`supervisor: note: ${line}\n`);
}

/** A JSON log line as a person reads it: its message, and the error's when it carries one. */
function logSentence(line: string): string {
  try {
    const record = JSON.parse(line) as { msg?: unknown; err?: { message?: unknown } };
    const err = typeof record.err?.message === 'string' ? `: ${record.err.message}` : '';
    return `${typeof record.msg === 'string' ? record.msg : 'log'}${err}`;
  } catch {
    return line.trim();
  }
}
