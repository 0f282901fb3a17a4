import { setTimeout as delay } from 'node:timers/promises';
import { AuditLog } from '../core/audit.js';
import { systemClock, type Clock } from '../core/clock.js';
import { CORE_SETTINGS, httpUrl, readConfig, type Config } from '../core/config.js';
import { lastDaemonAddress } from '../core/daemon-info.js';
import { SupervisorError } from '../core/errors.js';
import type { Db } from '../core/db.js';
import type { Logger } from '../core/log.js';
import { knownMigrations, migrateKnown, unknownMigrations } from '../core/migrate.js';
import { OperationMetrics } from '../core/metrics.js';
import { SchemaWatch } from '../core/schema-watch.js';
import { buildId, VERSION } from '../version.js';
import { SettingsStore } from '../core/settings-store.js';
import type { ProjectData } from '../core/project-data.js';
import type { PortClaims } from '../core/port-claims.js';
import { Presence } from '../core/presence.js';
import { Catalog } from './catalog.js';
import type { CoreDeps, Domain, Needs, ServicesOf } from './domain.js';
import { CallRecorder } from './recorder.js';

export interface AppOptions {
  config: Config;
  db: Db;
  log: Logger;
  clock?: Clock;
  /** How retries wait (Cloudflare backoff); tests record the waits instead of sitting through them. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Whether this process keeps running (the daemon; default true). The CLI and stdio MCP without
   * a daemon open the app for one command or session: domains start no background work there.
   */
  longRunning?: boolean;
}

/** What the adapters use besides the domains' services. */
export interface AppCore {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  calls: CallRecorder;
  catalog: Catalog;
  /** Counts and times every call, for /metrics. */
  metrics: OperationMetrics;
  /** Whether a newer Supervisor has migrated the database under this process (/readyz, the daemon's log). */
  schema: SchemaWatch;
  /** A domain's service by id: what its operations' handlers get as `ctx.svc`. */
  serviceOf(domain: string): unknown;
  /** The daemon tells where it listens (core.baseUrl() answers it from then on). */
  listeningAt(url: string): void;
  /** Stops the domains in reverse order, flushes call records and closes the database. */
  close(): Promise<void>;
}

/** The running app: core, plus each domain's service under its id. */
export type App<L extends readonly Domain[]> = AppCore & ServicesOf<L>;

const RESERVED = new Set<string>(['config', 'db', 'clock', 'log', 'audit', 'calls', 'catalog', 'metrics', 'schema', 'serviceOf', 'listeningAt', 'close']);

function checkOrder(domains: readonly Domain[]): void {
  const seen = new Set<string>();
  for (const domain of domains) {
    if (RESERVED.has(domain.id)) throw new Error(`domain id ${domain.id} is reserved`);
    if (seen.has(domain.id)) throw new Error(`domain ${domain.id} is listed twice`);
    for (const dep of Object.keys(domain.needs ?? {})) {
      if (!seen.has(dep)) throw new Error(`domain ${domain.id} needs ${dep}, which must come before it in the domain list`);
    }
    seen.add(domain.id);
  }
}

/**
 * Migrates the database and creates every domain in list order, each with the
 * settings and the other domains' services it declared; then starts them. A
 * failure at any point stops what was created and closes the database, so a
 * process that cannot start never keeps it open.
 */
export async function openDomains<const L extends readonly Domain[]>(domains: L, options: AppOptions, catalog: Catalog = new Catalog(domains)): Promise<App<L>> {
  checkOrder(domains);
  const { config, db, log } = options;
  const clock = options.clock ?? systemClock;
  const services = new Map<string, unknown>();
  const projectData: Array<{ domain: string; data: ProjectData }> = [];
  const portClaims: Array<{ domain: string; claims: PortClaims }> = [];
  const created: Domain[] = [];
  const calls = new CallRecorder(db, log, { clock, days: () => config.callRetentionDays });
  const presence = new Presence(db, log);
  // Port 0 is a free port picked at each start: until a daemon in this process says which,
  // there is no address to give (instructions wrote http://127.0.0.1:0/mcp/... into CLAUDE.md).
  let baseUrl = config.port === 0 ? undefined : httpUrl(config.host, config.port);
  let listening = false;

  const stopAll = async () => {
    for (const domain of created.splice(0).reverse()) {
      await domain.stop?.(services.get(domain.id)).catch((err: unknown) => log.error({ err, domain: domain.id }, 'domain did not stop cleanly'));
    }
    await calls.flush();
    await presence.close();
    await db.close();
  };

  try {
    for (const domain of domains) await domain.preflight?.({ db, home: config.home, settings: config.domains[domain.id] ?? {} });
    const known = await knownMigrations(domains);
    const schema = new SchemaWatch(() => unknownMigrations(db, known), log);
    const applied = await migrateKnown(db, known);
    const audit = new AuditLog(db, clock);
    // An upgrade is said where an operator looks afterwards: the log, and the audit trail.
    if (applied.length > 0) {
      log.info({ migrations: applied }, `database migrated: ${applied.length} migration${applied.length === 1 ? '' : 's'} applied`);
      await audit.record({ actor: 'system:supervisor', action: 'database.migrate', target: null, outcome: 'ok', detail: { migrations: applied } });
    }
    const core: CoreDeps = {
      db,
      clock,
      log,
      audit,
      home: config.home,
      baseUrl: () => {
        if (config.publicUrl) return config.publicUrl;
        if (baseUrl === undefined) {
          throw new SupervisorError(
            'unavailable',
            `the daemon's address is not known here: port is 0 (a free port at each start) and no daemon is answering for this data dir. Start it (\`supervisor daemon\`, or \`npm start\`; commands then go through it), or set a fixed port (\`supervisor config set port ${CORE_SETTINGS.port.default}\`)`,
          );
        }
        // No daemon in this process: a shell whose settings differ from the daemon's (its port given
        // by SUPERVISOR_PORT there) would send every project's agents to an address nothing serves.
        const last = listening ? undefined : lastDaemonAddress(config.home);
        if (last !== undefined && last !== baseUrl) {
          throw new SupervisorError(
            'unavailable',
            `the daemon of this data dir last listened on ${last}, but the settings here put it at ${baseUrl}, so links written now (MCP endpoints in CLAUDE.md and .mcp.json) would lead where it is not. ` +
              `Start the daemon (commands then go through it), or give it the same address everywhere: \`supervisor config set port <port>\` (and host) in the config file rather than SUPERVISOR_PORT in one shell`,
            { daemonAddress: last, configuredAddress: baseUrl },
          );
        }
        return baseUrl;
      },
      defaultToolsets: (endpoint) => catalog.toolsets.filter((t) => t.defaultFor.includes(endpoint)).map((t) => t.id),
      sleep: options.sleep ?? ((ms) => delay(ms).then(() => undefined)),
      longRunning: options.longRunning ?? true,
      presence,
      projectData: () => projectData,
      portClaims: () => portClaims,
      settings: new SettingsStore(config, domains, log),
    };
    for (const domain of domains) {
      const needs = Object.fromEntries(Object.keys(domain.needs ?? {}).map((id) => [id, services.get(id)]));
      const svc = await domain.create({ core, settings: config.domains[domain.id] ?? {}, needs: needs as Needs });
      services.set(domain.id, svc);
      created.push(domain);
      if (domain.projectData) projectData.push({ domain: domain.id, data: domain.projectData(svc) });
      if (domain.portClaims) portClaims.push({ domain: domain.id, claims: domain.portClaims(svc) });
    }
    for (const domain of domains) await domain.start?.(services.get(domain.id));
    const app: AppCore = {
      config,
      db,
      clock,
      log,
      audit,
      calls,
      catalog,
      metrics: new OperationMetrics({ version: VERSION, build: buildId() }),
      schema,
      serviceOf(id) {
        if (!services.has(id)) throw new Error(`no domain ${id}`);
        return services.get(id);
      },
      listeningAt(url) {
        baseUrl = url;
        listening = true;
      },
      close: stopAll,
    };
    return Object.assign(app, Object.fromEntries(services)) as App<L>;
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
}

/** An application made of a list of domains: its catalog, its configuration and how to open it. */
export interface AppDefinition<A extends AppCore = AppCore> {
  catalog: Catalog;
  /** In start order; their migrations are what a new database gets. */
  domains: readonly Domain[];
  loadConfig(env?: NodeJS.ProcessEnv): Config;
  open(options: AppOptions): Promise<A>;
}

export function defineApp<const L extends readonly Domain[]>(domains: L): AppDefinition<App<L>> & { domains: L } {
  const catalog = new Catalog(domains);
  return {
    domains,
    catalog,
    loadConfig: (env = process.env) => readConfig(env, domains),
    open: (options) => openDomains(domains, options, catalog),
  };
}
