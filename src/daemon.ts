import { randomBytes } from 'node:crypto';
import { httpUrl, type Config } from './core/config.js';
import { CHOOSING_ROLE, ensureDataDir, lockDataDir, markStarting, removeDaemonInfo, tightenDataDir, writeDaemonInfo } from './core/datadir.js';
import { invalidInput, SupervisorError } from './core/errors.js';
import { createLogger, type Logger } from './core/log.js';
import type { Db } from './core/db.js';
import type { Clock } from './core/clock.js';
import { openDatabase } from './core/open-db.js';
import { buildHttpServer } from './http/server.js';
import { DOMAINS, openApp, type SupervisorApp } from './app.js';
import { buildInfo } from './version.js';

export interface RunningDaemon {
  url: string;
  services: SupervisorApp;
  /** Set on the first start only: the admin token, shown once. */
  initialAdminToken?: string;
  /** Why the daemon's own port could not be reserved (another service holds it), for the banner. */
  portProblem: string | null;
  close(): Promise<void>;
}

/** Creates the first admin token when none exists; its secret is returned once and stored hashed. */
async function ensureAdminToken(services: SupervisorApp): Promise<string | undefined> {
  return (await services.auth.tokens.createFirstAdmin('system:first-start'))?.token;
}

/**
 * Records the daemon's own port as <project>/supervisor (meta/supervisor in meta's range)
 * when it falls in a project's range, so no service is ever handed it; a clash is
 * reported, not fatal.
 */
async function reserveOwnPort(services: SupervisorApp, port: number): Promise<string | null> {
  const { reserved, released, problem } = await services.ports.reserveDaemonPort('daemon', port);
  for (const old of released) services.log.info({ port: old.port, project: old.project }, 'released the reservation of an earlier run on another port');
  if (reserved) services.log.info({ port, project: reserved.project, service: reserved.service }, 'reserved the daemon port');
  if (problem) services.log.warn({ port, reason: problem }, 'could not reserve the daemon port');
  return problem;
}

/**
 * Starts the daemon: data dir, database (embedded under an exclusive lock, or
 * PostgreSQL), services, HTTP (REST, MCP, dashboard); then publishes its address
 * and a per-run local credential in daemons/<pid>.json for the CLI and stdio adapters.
 * Tests inject their own database, logger and clock.
 */
export async function startDaemon(config: Config, inject: { db?: Db; log?: Logger; clock?: Clock } = {}): Promise<RunningDaemon> {
  const log = inject.log ?? createLogger(config.logLevel);
  await ensureDataDir(config.home);
  const lock = config.databaseUrl || inject.db ? undefined : await lockDataDir(config.home, 'daemon');
  // Until daemons/<pid>.json says where it listens, a command run meanwhile waits for it rather than open the database itself.
  const unmark = await markStarting(config.home);
  let services: SupervisorApp | undefined;
  try {
    const choosing = config.databaseUrl && !inject.db ? await lockDataDir(config.home, CHOOSING_ROLE) : undefined;
    const db = await (inject.db ? Promise.resolve(inject.db) : openDatabase(config, DOMAINS)).finally(() => choosing?.release());
    services = await openApp({ config, db, log, clock: inject.clock });
    // After the database is open: PGlite gives the files it creates mode 0666 whatever the umask.
    // Routine at every start (the files PGlite made since the last one), so not worth an info line.
    const tightened = await tightenDataDir(config.home);
    if (tightened > 0) log.debug({ files: tightened }, 'took group and other permissions off files in the data dir');
    const localToken = randomBytes(32).toString('base64url');
    const tokens = services.auth.tokens;
    const app = await buildHttpServer(services, { localToken, verifyToken: (token) => tokens.verify(token) });
    await app.listen({ host: config.host, port: config.port }).catch((err: NodeJS.ErrnoException) => {
      // The one start failure a person fixes by choosing: say which port and how, not "internal".
      if (err.code === 'EADDRINUSE') {
        throw new SupervisorError('conflict', `port ${config.port} on ${config.host} is in use (another daemon? \`supervisor daemon status\`, or \`supervisor port check ${config.port}\`); stop what holds it, or start on another port with SUPERVISOR_PORT`, { port: config.port });
      }
      // A host name that does not resolve, or an address no interface here has: the setting is wrong.
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' || err.code === 'EADDRNOTAVAIL') {
        const why = err.code === 'EADDRNOTAVAIL' ? 'is not an address of this host' : 'does not resolve to an address';
        throw invalidInput(`setting host (SUPERVISOR_HOST) is invalid: ${config.host} ${why} (${err.code}); use 127.0.0.1, ::1, 0.0.0.0 or an address of this host`, { field: 'host' });
      }
      throw err;
    });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = httpUrl(config.host, port);
    services.listeningAt(url);
    const build = buildInfo();
    await writeDaemonInfo(config.home, { pid: process.pid, url, token: localToken, ...(build ? { build: build.id, ...(build.builtAt ? { builtAt: build.builtAt } : {}) } : {}), ...(config.configFile ? { configFile: config.configFile } : {}) });
    await unmark();
    const portProblem = await reserveOwnPort(services, port);
    log.info({ url, database: services.db.kind, home: config.home }, 'supervisor daemon listening');
    // Last, once nothing can fail: a start that fails (its port taken) must not make the token it never shows.
    const initialAdminToken = await ensureAdminToken(services);
    const running = services;
    running.schema.start();
    // A daemon sharing this data dir writes the same config file: its live settings apply here too.
    const unfollow = running.settings.follow();
    return {
      url,
      services: running,
      initialAdminToken,
      portProblem,
      async close() {
        running.schema.stop();
        unfollow();
        await app.close();
        await removeDaemonInfo(config.home);
        await running.close();
        await lock?.release();
      },
    };
  } catch (err) {
    await unmark();
    await services?.close().catch(() => undefined);
    await lock?.release();
    throw err;
  }
}
