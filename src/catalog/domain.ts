import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import type { Logger } from '../core/log.js';
import type { ProjectData, ProjectDataSources } from '../core/project-data.js';
import type { PortClaims, PortClaimSources } from '../core/port-claims.js';
import type { Presence } from '../core/presence.js';
import type { SettingsSpec, SettingValues } from '../core/settings.js';
import type { SettingsStore } from '../core/settings-store.js';
import type { Operation } from './operation.js';

/** The two kinds of MCP endpoint: `/mcp/meta` (admin) and `/mcp/<project>`. */
export type Endpoint = 'project' | 'meta';

/**
 * A dependency on another domain's service, typed as the narrow interface this
 * domain uses (`need<Pick<PortService, 'routedAllocations'>>()`). The key it is
 * declared under is the other domain's id.
 */
export interface Need<T> {
  readonly __need?: T;
}
export const need = <T>(): Need<T> => ({});

export type Needs = Record<string, Need<unknown>>;
type Resolved<N extends Needs> = { [K in keyof N]: N[K] extends Need<infer T> ? T : never };

/** What every domain may use: the domain-free services of core. */
export interface CoreDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  /** The data dir (SUPERVISOR_HOME). */
  home: string;
  /**
   * The daemon's address (http://host:port), for links such as MCP endpoints: publicUrl when set;
   * else where it listens once it does (a configured port 0 is the port it got), as configured until then.
   */
  baseUrl(): string;
  /** The toolsets an MCP endpoint serves when the client does not choose (what an agent there sees). */
  defaultToolsets(endpoint: Endpoint): string[];
  /** How retries wait; tests record the waits instead of sitting through them. */
  sleep: (ms: number) => Promise<void>;
  /** What the domains hold about projects (the projects domain asks before removing one). */
  projectData: ProjectDataSources;
  /** Ports other domains send traffic to (tunnel routes): the ports domain hands none of them out. */
  portClaims: PortClaimSources;
  /** Whether the owner of work recorded in the database (a loop, a resize) still runs, on any host. */
  presence: Presence;
  /** False in a CLI or stdio process that opened the app for one command: start no background work (loops, schedulers) there. */
  longRunning: boolean;
  /** Every setting, read and written through the config file; live ones applied at once. */
  settings: SettingsStore;
}

export interface DomainDeps<S extends SettingsSpec, N extends Needs> {
  core: CoreDeps;
  settings: SettingValues<S>;
  needs: Resolved<N>;
}

export interface DomainDef<Id extends string, Svc, S extends SettingsSpec, N extends Needs> {
  /** Domain id = MCP toolset id = the first CLI word unless an alias is used. */
  id: Id;
  title: string;
  /** What the toolset is for; MCP `instructions` are built from the enabled toolsets' descriptions. */
  description: string;
  /** Other first CLI words its operations use (`supervisor dns …`, `supervisor tunnel …`). */
  cliGroups?: readonly string[];
  /** Which MCP endpoints serve this toolset when the client does not choose. */
  defaultFor: readonly Endpoint[];
  settings?: S;
  /** Other domains' services it uses, each narrowed to what it calls; they are created first. */
  needs?: N;
  /** Folder of this domain's SQL migrations (`<timestamp>_<name>.sql`), applied in name order. */
  migrations?: URL;
  /**
   * Checked before any migration runs, on the database as it is: what would make `create` refuse
   * to start (a master key this host lacks) must stop a start before it upgrades a database other,
   * older daemons still use.
   */
  preflight?(deps: { db: Db; home: string; settings: SettingValues<S> }): Promise<void>;
  create(deps: DomainDeps<S, N>): Svc | Promise<Svc>;
  operations: readonly Operation[];
  /** What this domain holds about a project: listed before a project is removed, released with it. */
  projectData?(svc: Svc): ProjectData;
  /** Ports of this host this domain sends traffic to, besides the allocations' own. */
  portClaims?(svc: Svc): PortClaims;
  /** Runs after every domain is created (schedulers, loops, supervised processes). */
  start?(svc: Svc): Promise<void>;
  /** Runs on close, in reverse domain order. */
  stop?(svc: Svc): Promise<void>;
}

/** A domain as the app wiring sees it: the type parameters erased but the id and service type kept. */
export interface Domain<Id extends string = string, Svc = unknown> extends Omit<DomainDef<Id, Svc, SettingsSpec, Needs>, 'create' | 'preflight'> {
  create(deps: DomainDeps<SettingsSpec, Needs>): Svc | Promise<Svc>;
  preflight?(deps: { db: Db; home: string; settings: SettingValues<SettingsSpec> }): Promise<void>;
}

export function defineDomain<const Id extends string, Svc, S extends SettingsSpec = Record<never, never>, N extends Needs = Record<never, never>>(
  def: DomainDef<Id, Svc, S, N>,
): Domain<Id, Svc> {
  for (const op of def.operations) {
    if (op.domain !== def.id) throw new Error(`operation ${op.name} belongs to ${op.domain}, not to domain ${def.id}`);
    const group = op.cli.command[0];
    if (group !== def.id && !(def.cliGroups ?? []).includes(group)) {
      throw new Error(`operation ${op.name} uses CLI group "${group}"; domain ${def.id} declares ${[def.id, ...(def.cliGroups ?? [])].join(', ')}`);
    }
  }
  // Settings and needs are looked up by the wiring with the keys declared here, so the casts hold.
  return def as unknown as Domain<Id, Svc>;
}

/** The service type of a domain. */
export type ServiceOf<D> = D extends Domain<string, infer S> ? S : never;

/** `{ [domain id]: its service }` for a list of domains. */
export type ServicesOf<L extends readonly Domain[]> = { [D in L[number] as D['id']]: ServiceOf<D> };
