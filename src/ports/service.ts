import { mayUse, scopeOf, type Principal } from '../core/principal.js';
import type { ProjectData } from '../core/project-data.js';
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { forbidden, SupervisorError } from '../core/errors.js';
import type { Page } from '../core/page.js';
import { planAdoptions, type Adoption, type Skipped } from './adopt.js';
import type { GroupCommitOptions } from '../core/group-commit.js';
import { AllocationStore, DEFAULT_BATCHING, type AllocateRequest, type Allocated } from './allocations.js';
import { ALLOCATION_COLUMNS, LOCAL_HOST, toAllocation, type Allocation, type AllocationRow, type ProjectRange, type Protocol } from './model.js';
import { DEFAULT_POLICY, Exclusions, readEphemeralRange, type PortPolicy } from './policy.js';
import { attachOwners, readSockets, type Listener, type RawSocket } from './probe.js';
import { BusyPorts } from './busy.js';
import { commandRuns } from './command-match.js';
import { labelsAbove, projectHostnameRule } from './hostname-scope.js';
import { commandViewFor, viewSocket, wholeCommand } from './command-view.js';
import type { PortClaim } from '../core/port-claims.js';
import { RangeRegistry } from './ranges.js';
import type { PortRange } from './range.js';
import { DAEMON_DESCRIPTION, reconcile, toSocket, type AuditGroups, type AuditItem, type OwnershipEvidence, type Socket } from './reconcile.js';
import { processStartedAt } from '../core/process-info.js';
import { ownerCommand } from './adopt.js';
import { readFile } from 'node:fs/promises';
import { listAllocations, localAllocations, routedAllocations, portOwners, projectUsage, type ListFilter, type Listening, type PortStatus } from './reports.js';

export interface PortServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  policy?: Partial<PortPolicy>;
  /** The OS ephemeral range; tests inject one instead of reading /proc. */
  ephemeralRange?: () => Promise<PortRange>;
  /** This host's listening sockets with their processes; tests may point it at a fake /proc. Allocation skips their ports. */
  listeners?: () => Promise<Listener[]>;
  /** Group commit of concurrent allocations (see AllocationStore.allocate): DEFAULT_BATCHING unless set, off with false. */
  allocationBatching?: GroupCommitOptions | false;
  /** The deny list as it is now (a live setting); policy.denyList when not given. */
  denyList?: () => number[];
  /** Ports other domains send traffic to (tunnel routes): new local allocations skip them like listening ones. */
  claims?: () => Promise<PortClaim[]>;
}

export interface ProjectSummary {
  project: string;
  range: PortRange;
  size: number;
  /** Ports of the range that may be handed out (deny list and ephemeral range removed). */
  capacity: number;
  used: number;
  free: number;
  utilization: number;
}

export interface PortCheck {
  port: number;
  host: string;
  project: ProjectRange | null;
  allocations: Allocation[];
  excluded: 'deny_list' | 'ephemeral' | null;
  /** True when this supervisor daemon listens on the port (reserved for it when inside a range). */
  daemon: boolean;
  /** null when nobody can tell: the port is on another host. */
  listening: boolean | null;
  sockets: Array<Socket & { protocol: Protocol }>;
  /** What sends traffic to the port besides its allocations (a tunnel route): allocation skips it. */
  routedBy: string[];
}

export type AuditReport = AuditGroups & { project: string | null; counts: Record<keyof AuditGroups, number>; truncated: boolean };

/** The service name of the daemon's own port (meta/supervisor when it is in meta's range). */
export const DAEMON_SERVICE = 'supervisor';

async function ownCommandLine(): Promise<string | null> {
  try {
    const text = (await readFile('/proc/self/cmdline', 'utf8')).replace(/\0/g, ' ').trim();
    return text === '' ? null : text;
  } catch {
    return process.argv.join(' ');
  }
}

const percent = (used: number, capacity: number) => (capacity === 0 ? 100 : Math.round((used / capacity) * 1000) / 10);

/**
 * Port allocation: projects own disjoint ranges, services hold durable reservations in
 * them, and the audit compares the registry with the sockets this host really has open.
 * A project token allocates and releases only in its own project.
 */
export class PortService {
  readonly policy: PortPolicy;
  private readonly ranges: RangeRegistry;
  private readonly store: AllocationStore;
  private ephemeralOnce: Promise<PortRange> | undefined;
  private built: { denyList: number[]; exclusions: Exclusions } | undefined;

  constructor(private readonly deps: PortServiceDeps) {
    this.policy = { ...DEFAULT_POLICY, ...deps.policy };
    const exclusions = () => this.exclusions();
    this.ranges = new RangeRegistry({ db: deps.db, clock: deps.clock, audit: deps.audit, policy: this.policy, exclusions });
    const batching = deps.allocationBatching === false ? undefined : (deps.allocationBatching ?? DEFAULT_BATCHING);
    this.store = new AllocationStore({ db: deps.db, clock: deps.clock, audit: deps.audit, exclusions, batching });
  }

  /** The ephemeral range is read once (the kernel setting changes rarely); the deny list is rebuilt when the setting changes. */
  async exclusions(): Promise<Exclusions> {
    this.ephemeralOnce ??= (this.deps.ephemeralRange ?? (() => readEphemeralRange()))();
    const ephemeral = await this.ephemeralOnce;
    const denyList = this.deps.denyList?.() ?? this.policy.denyList;
    if (this.built?.denyList !== denyList) this.built = { denyList, exclusions: new Exclusions(denyList, ephemeral) };
    return this.built.exclusions;
  }

  private listeners(): Promise<Listener[]> {
    return this.deps.listeners ? this.deps.listeners() : this.sockets().then((sockets) => attachOwners(sockets));
  }

  private socketsInFlight: Promise<RawSocket[]> | undefined;

  /** The listening sockets now, without their processes (four small files); concurrent callers share one read. */
  private sockets(): Promise<RawSocket[]> {
    this.socketsInFlight ??= (this.deps.listeners ? this.deps.listeners() : readSockets()).finally(() => {
      this.socketsInFlight = undefined;
    });
    return this.socketsInFlight;
  }

  /** What listens on this host now, and what a tunnel routes to: the ports a new local allocation skips. */
  private async busy(): Promise<BusyPorts> {
    const owners = this.deps.listeners ? async (sockets: RawSocket[]) => sockets as Listener[] : (sockets: RawSocket[]) => attachOwners(sockets);
    const [sockets, claims] = await Promise.all([this.sockets(), this.deps.claims?.() ?? []]);
    return new BusyPorts(sockets, owners, wholeCommand, claims);
  }

  /** A project token acts only in its own project; the refusal is audited like a secret denial. */
  private async authorize(principal: Principal, project: string, action: string): Promise<void> {
    if (mayUse(principal, project)) return;
    await this.deps.audit.record({ actor: principal.actor, action, target: project, outcome: 'denied' });
    throw forbidden(`this token belongs to project ${scopeOf(principal)} and cannot ${action.replace(/^port\./, '')} ports of project ${project}`);
  }

  /** The project a project-scoped report covers: its own, unless an admin asks for another or for all. */
  private async scopeOf(principal: Principal, project: string | undefined, action: string): Promise<string | undefined> {
    if (principal.role === 'admin') return project;
    await this.authorize(principal, project ?? principal.project, action);
    return principal.project;
  }

  // Ranges: the ports domain's data about each project.

  /** A project's range; not_found when it has none. */
  getRange(project: string): Promise<ProjectRange> {
    return this.ranges.get(project);
  }

  /**
   * Moves or resizes a project's range (admin); gives one to a project that has none. A range
   * with no usable port is refused; the answer says how many are usable and why others are not.
   */
  async setRange(actor: string, input: { project: string; size?: number; range?: PortRange }): Promise<ProjectRange & { usable: number; notes: string[] }> {
    const range = await this.ranges.set(actor, input);
    const { usable, excluded } = (await this.exclusions()).usability(range.range);
    return { ...range, usable, notes: excluded === null ? [] : [`${excluded}: never handed out`] };
  }

  /** What ports hold about a project: a range assigned when it is added, allocations released with it. */
  projectData(): ProjectData {
    return {
      added: (project, tx, actor, options) => this.ranges.assign(tx, project, actor, options.portRange),
      differs: (project, q, options) => this.ranges.differs(project, q, options.portRange),
      lock: (project, tx) => this.ranges.lock(project, tx),
      owned: (project, q) => this.ranges.owned(project, q),
      release: (project, tx, actor) => this.ranges.release(project, tx, actor),
    };
  }

  // Allocations.

  /** Get-or-allocate; idempotent for the same project, service and host. */
  async allocate(principal: Principal, req: Omit<AllocateRequest, 'host' | 'busy'> & { host?: string }): Promise<Allocated> {
    await this.authorize(principal, req.project, 'port.allocate');
    const host = req.host ?? LOCAL_HOST;
    if (principal.role === 'project' && req.hostname && !(await this.isProjectHostname(req.hostname, principal.project))) {
      await this.assertHostnameKept(principal, { ...req, host, hostname: req.hostname });
    }
    const busy = host === LOCAL_HOST ? (await this.busyFor(req)).shownWith(commandViewFor(principal)) : undefined;
    return this.store.allocate(principal.actor, { ...req, host, busy });
  }

  /** Whether `hostname` is one of `project`'s own (see hostname-scope.ts): every project has a port range, so its name is found there. */
  private async isProjectHostname(hostname: string, project: string): Promise<boolean> {
    const above = labelsAbove(hostname, project);
    if (!above) return false;
    const { rows } = await this.deps.db.query('SELECT 1 FROM port_ranges WHERE project = ANY($1::text[]) LIMIT 1', [above]);
    return rows.length === 0;
  }

  /** A hostname outside the project's own is refused to its token, unless the allocation has it already (an admin gave it). */
  private async assertHostnameKept(principal: Principal, req: { project: string; service: string; host: string; hostname: string }): Promise<void> {
    const { rows } = await this.deps.db.query<{ hostname: string | null }>('SELECT hostname FROM port_allocations WHERE project = $1 AND service = $2 AND host = $3', [req.project, req.service, req.host]);
    if (rows[0]?.hostname === req.hostname) return;
    await this.deps.audit.record({ actor: principal.actor, action: 'port.allocate', target: `${req.project}/${req.service}`, outcome: 'denied', detail: { hostname: req.hostname } });
    throw forbidden(`hostname: ${req.hostname} is not one of project ${req.project}'s; ${projectHostnameRule(req.project)}`, { field: 'hostname' });
  }

  /**
   * The busy ports a new allocation skips. A preferred port something listens on stays
   * refused unless the caller names the listener's command: then it is the same service
   * taking back the port it listens on (after a release, or reserving a running server's port).
   */
  private async busyFor(req: { protocol?: Protocol; preferredPort?: number; command?: string | null; hostname?: string | null }): Promise<BusyPorts> {
    // A route for the hostname asked for is that service's own (released and allocated again before a sync).
    const busy = req.hostname ? (await this.busy()).withoutClaimsFor(req.hostname) : await this.busy();
    const protocol = req.protocol ?? 'tcp';
    const preferred = req.preferredPort;
    if (preferred === undefined || !req.command || !busy.has(preferred)) return busy;
    const listeners = await busy.listeners([preferred], protocol);
    const command = req.command;
    const processes = listeners.flatMap((l) => l.processes);
    const same = processes.length > 0 && listeners.every((l) => l.processes.length > 0) && processes.every((p) => p.command !== null && commandRuns(p.command, command));
    return same ? busy.without(protocol, preferred) : busy;
  }

  /** Batches of concurrent allocations sent so far and the requests they carried (the benchmark prints them). */
  allocationBatches(): { batches: number; requests: number } {
    return this.store.batchStats();
  }

  async release(principal: Principal, req: { project: string; service: string; host?: string }): Promise<{ released: boolean; allocation: Allocation | null; note?: string }> {
    await this.authorize(principal, req.project, 'port.release');
    return this.store.release(principal.actor, { ...req, host: req.host ?? LOCAL_HOST });
  }

  /** Allocations, optionally with their live status (a /proc probe, so only when asked or filtered on). */
  async list(filter: ListFilter & { probe?: boolean }): Promise<Page<Allocation & { status: PortStatus }>> {
    const listening = filter.probe || filter.status ? await this.listening() : null;
    const page = await listAllocations(this.deps.db, filter, listening);
    await this.knownProject(filter.project, page.items.length);
    return page;
  }

  /** An empty answer for a project filter is checked: a misspelt project is not_found, not a project with nothing. */
  private async knownProject(project: string | undefined, found: number): Promise<void> {
    if (project !== undefined && found === 0) await this.ranges.get(project);
  }

  private async listening(): Promise<Listening> {
    const listeners = await this.listeners();
    const ports = (protocol: Protocol) => [...new Set(listeners.filter((l) => l.protocol === protocol).map((l) => l.port))];
    return { tcp: ports('tcp'), udp: ports('udp') };
  }

  async summary(filter: { project?: string; limit: number; cursor?: string }): Promise<Page<ProjectSummary>> {
    const exclusions = await this.exclusions();
    const page = await projectUsage(this.deps.db, filter);
    await this.knownProject(filter.project, page.items.length);
    return {
      nextCursor: page.nextCursor,
      items: page.items.map(({ project, used }) => {
        const capacity = exclusions.capacity(project.range);
        const size = project.range.end - project.range.start + 1;
        return { project: project.project, range: project.range, size, capacity, used, free: Math.max(0, capacity - used), utilization: percent(used, capacity) };
      }),
    };
  }

  /** Who owns port N, whether it may be handed out, and (on this host) whether anything listens on it now. */
  async check(principal: Principal, input: { port: number; host?: string; protocol?: Protocol }): Promise<PortCheck> {
    const host = input.host ?? LOCAL_HOST;
    const owners = await portOwners(this.deps.db, input.port, host);
    const allocations = owners.allocations.filter((a) => !input.protocol || a.protocol === input.protocol);
    const excluded = (await this.exclusions()).reason(input.port);
    if (host !== LOCAL_HOST) return { port: input.port, host, project: owners.project, allocations, excluded, daemon: false, listening: null, sockets: [], routedBy: [] };
    const [listeners, claims] = await Promise.all([this.listeners(), input.protocol === 'udp' ? [] : (this.deps.claims?.() ?? [])]);
    const sockets = listeners
      .filter((l) => l.port === input.port && (!input.protocol || l.protocol === input.protocol))
      .map((l) => viewSocket({ protocol: l.protocol, ...toSocket(l) }, commandViewFor(principal)));
    const daemon = this.daemonPort?.port === input.port && (!input.protocol || input.protocol === 'tcp');
    const routedBy = claims.filter((c) => c.port === input.port).map((c) => c.by);
    return { port: input.port, host, project: owners.project, allocations, excluded, daemon, listening: sockets.length > 0, sockets, routedBy };
  }

  /** The registry against this host's sockets: ok, down, conflict (someone else on a reserved port), unknown. */
  async audit(principal: Principal, input: { project?: string; limit: number }): Promise<AuditReport> {
    const project = await this.scopeOf(principal, input.project, 'port.audit');
    const groups = await this.groups(project);
    const counts = { ok: groups.ok.length, down: groups.down.length, conflict: groups.conflict.length, unknown: groups.unknown.length };
    const view = commandViewFor(principal);
    const cut = (items: AuditItem[]) => items.slice(0, input.limit).map((item) => ({ ...item, sockets: item.sockets.map((s) => viewSocket(s, view)) }));
    return {
      project: project ?? null,
      counts,
      truncated: Object.values(counts).some((n) => n > input.limit),
      ok: cut(groups.ok), down: cut(groups.down), conflict: cut(groups.conflict), unknown: cut(groups.unknown),
    };
  }

  private async groups(project: string | undefined): Promise<AuditGroups> {
    // Listeners first: if /proc cannot be read the audit fails with that reason, never an empty report.
    const listeners = await this.listeners();
    const ranges = project === undefined ? await this.ranges.all() : [await this.ranges.get(project)];
    const evidence: OwnershipEvidence = { daemon: this.daemonPort, startedAt: (pid) => processStartedAt(pid) };
    return reconcile(await localAllocations(this.deps.db, project), ranges, listeners, evidence);
  }

  /**
   * Adopts the listeners inside project ranges that have no allocation. Dry run unless
   * `apply`; applied, each adoption is its own allocation and failures are reported, not thrown.
   */
  async importListeners(principal: Principal, input: { project?: string; apply: boolean }): Promise<{ applied: boolean; adoptions: Array<Adoption & { allocated: boolean }>; skipped: Skipped[] }> {
    const project = await this.scopeOf(principal, input.project, 'port.import');
    const groups = await this.groups(project);
    const plan = planAdoptions(groups.unknown, await this.exclusions(), [...groups.ok, ...groups.down, ...groups.conflict]);
    if (!input.apply) return { applied: false, adoptions: plan.adopt.map((a) => ({ ...a, allocated: false })), skipped: plan.skipped };
    const adoptions: Array<Adoption & { allocated: boolean }> = [];
    const skipped = [...plan.skipped];
    for (const a of plan.adopt) {
      try {
        const done = await this.store.allocate(principal.actor, { project: a.project, service: a.service, host: LOCAL_HOST, protocol: a.protocol, preferredPort: a.port, command: a.command, description: `adopted from pid ${a.pid ?? 'unknown'}` });
        adoptions.push({ ...a, allocated: done.created });
      } catch (err) {
        if (!(err instanceof SupervisorError)) throw err;
        skipped.push({ project: a.project, port: a.port, protocol: a.protocol, reason: err.message });
      }
    }
    return { applied: true, adoptions, skipped };
  }

  /** The port this process serves the API on, once the daemon has reserved it. */
  private daemonPort: { port: number; pid: number } | undefined;

  /**
   * Reserves the daemon's own port at start: in whichever project's range holds it, as
   * <project>/supervisor (meta/supervisor in meta's range), so no service is ever handed it,
   * even while the daemon is down. Another daemon on this host (sharing the database) that
   * holds that name already listens on its own port: this one's is <project>/supervisor-<port>.
   * A reservation of an earlier run on another port that nothing listens on any more is
   * released. Returns what happened, for the log.
   */
  async reserveDaemonPort(actor: string, port: number): Promise<{ reserved: Allocation | null; released: Allocation[]; problem: string | null }> {
    this.daemonPort = { port, pid: process.pid };
    const listening = await this.busy();
    const { rows } = await this.deps.db.query<AllocationRow>(
      `SELECT ${ALLOCATION_COLUMNS} FROM port_allocations
        WHERE host = $1 AND (service = $2 OR starts_with(service, $2 || '-')) AND description = $3 AND port <> $4 ORDER BY port`,
      [LOCAL_HOST, DAEMON_SERVICE, DAEMON_DESCRIPTION, port],
    );
    const released: Allocation[] = [];
    for (const stale of rows.map(toAllocation)) {
      // Still listening: another daemon on this host (sharing the database) holds it.
      if (listening.has(stale.port)) continue;
      const done = await this.store.release(actor, { project: stale.project, service: stale.service, host: LOCAL_HOST });
      if (done.allocation) released.push(done.allocation);
    }
    const { rows: holders } = await this.deps.db.query<{ project: string }>('SELECT project FROM port_ranges WHERE port_range @> $1::int', [port]);
    const project = holders[0]?.project;
    if (project === undefined) return { reserved: null, released, problem: null };
    const command = ownerCommand(await ownCommandLine()) ?? 'supervisor';
    const { rows: named } = await this.deps.db.query<{ service: string; port: number }>(
      `SELECT service, port FROM port_allocations WHERE project = $1 AND host = $2 AND (service = $3 OR port = $4) AND description = $5`,
      [project, LOCAL_HOST, DAEMON_SERVICE, port, DAEMON_DESCRIPTION],
    );
    // This port's own reservation from an earlier run keeps its name; else the plain name, unless another daemon holds it.
    const service = named.find((r) => r.port === port)?.service ?? (named.length > 0 ? `${DAEMON_SERVICE}-${port}` : DAEMON_SERVICE);
    try {
      // No busy ports: the daemon itself listens on this one.
      const done = await this.store.allocate(actor, { project, service, host: LOCAL_HOST, protocol: 'tcp', preferredPort: port, description: DAEMON_DESCRIPTION, command });
      return { reserved: done, released, problem: null };
    } catch (err) {
      if (!(err instanceof SupervisorError)) throw err;
      const owner = typeof err.details.owner === 'string' ? err.details.owner : undefined;
      // Not the allocation's own advice (omit preferredPort): the daemon's port is chosen by its setting.
      const problem = owner ? `it is allocated to ${owner}; start the daemon on another port (SUPERVISOR_PORT), or give ${owner} another (release_port it, then get_port)` : err.message;
      return { reserved: null, released, problem };
    }
  }

  /** The allocations `supervisor run` turns into PORT and <SERVICE>_PORT (see env.ts). */
  async projectAllocations(project: string): Promise<Allocation[]> {
    await this.ranges.get(project);
    return localAllocations(this.deps.db, project);
  }

  /** Allocations with a hostname: what the Cloudflare tunnel routes to. */
  routedAllocations(): Promise<Allocation[]> {
    return routedAllocations(this.deps.db);
  }
}
