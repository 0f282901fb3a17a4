import type { Allocation, ProjectRange, Protocol } from './model.js';
import type { Listener } from './probe.js';
import { commandRuns } from './command-match.js';
import { inRange } from './range.js';

/** One socket as the audit reports it. */
export interface Socket {
  address: string;
  family: 4 | 6;
  pid: number | null;
  command: string | null;
  /** Every process holding the socket (forked workers share their parent's). */
  processes: Array<{ pid: number; command: string | null }>;
}

/** An allocation (or, for `unknown`, a bare port in a project's range) with the sockets found on it. */
export interface AuditItem {
  project: string;
  service: string | null;
  port: number;
  protocol: Protocol;
  /** The owner's command as the allocation records it; null when it records none. */
  expectedCommand: string | null;
  sockets: Socket[];
  /** For a conflict: why these sockets are taken to be someone else's. null in the other groups. */
  reason: string | null;
}

/** What the audit knows besides the sockets: the daemon's own socket, and when processes started. */
export interface OwnershipEvidence {
  /** The port this supervisor daemon listens on, and its pid: on that port only its own reservation is ok. */
  daemon?: { port: number; pid: number };
  /** When a process started (epoch ms), where /proc tells. */
  startedAt?: (pid: number) => number | undefined;
}

/** The description the daemon's reservation of its own port carries (see PortService.reserveDaemonPort). */
export const DAEMON_DESCRIPTION = 'the supervisor daemon itself';

/**
 * A process that was running this long before a port was allocated without a command
 * was not started for it: a port is never handed out while something listens on it, so
 * such a listener is taken to be a stranger that bound the port after the allocation
 * (or before it, with an allocation made before the busy check existed).
 */
export const STARTED_BEFORE_MARGIN_MS = 60_000;

export interface AuditGroups {
  /** Allocated, and its owner is listening. */
  ok: AuditItem[];
  /** Allocated, nothing listening: still reserved. */
  down: AuditItem[];
  /** Allocated to one service, and another process is listening on it. */
  conflict: AuditItem[];
  /** Listening inside a project's range without an allocation. */
  unknown: AuditItem[];
}

const keyOf = (protocol: Protocol, port: number) => `${protocol}/${port}`;
export const toSocket = (l: Listener): Socket => ({ address: l.address, family: l.family, pid: l.pid, command: l.command, processes: l.processes });

/**
 * Why a socket is not the allocation's owner's, or null when it is taken to be the owner's:
 * - the daemon's own socket belongs only to the daemon's reservation;
 * - with a recorded command, a process must show it (one that cannot be seen, another
 *   user's, is given the benefit of the doubt);
 * - without one, processes that were all running well before the port was allocated were
 *   not started for it.
 */
function strangerReason(allocation: Allocation, listener: Listener, evidence: OwnershipEvidence): string | null {
  const { daemon } = evidence;
  if (daemon && listener.port === daemon.port && listener.processes.some((p) => p.pid === daemon.pid)) {
    return allocation.description === DAEMON_DESCRIPTION ? null : `the supervisor daemon (pid ${daemon.pid}) listens on this port`;
  }
  const processes = listener.processes.length > 0 ? listener.processes : listener.pid === null ? [] : [{ pid: listener.pid, command: listener.command }];
  if (processes.length === 0) return null;
  if (allocation.command !== null) {
    const expected = allocation.command;
    const seen = processes.filter((p) => p.command !== null);
    if (seen.length === 0 || seen.some((p) => commandRuns(p.command!, expected))) return null;
    return `no process on it runs "${expected}" (the allocation's command)`;
  }
  const allocatedAt = allocation.createdAt.getTime();
  const starts = processes.map((p) => evidence.startedAt?.(p.pid));
  if (starts.every((t) => t !== undefined && t < allocatedAt - STARTED_BEFORE_MARGIN_MS)) {
    return `its process${processes.length > 1 ? 'es were' : ' was'} running before the port was allocated (${allocation.createdAt.toISOString()}), so not started for it; record the owner's command with allocate_port to tell`;
  }
  return null;
}

/** Sorts the four groups' input once: local allocations and the host's listeners in, groups out. */
export function reconcile(allocations: Allocation[], ranges: ProjectRange[], listeners: Listener[], evidence: OwnershipEvidence = {}): AuditGroups {
  const byPort = new Map<string, Listener[]>();
  for (const l of listeners) {
    const key = keyOf(l.protocol, l.port);
    byPort.set(key, [...(byPort.get(key) ?? []), l]);
  }
  const groups: AuditGroups = { ok: [], down: [], conflict: [], unknown: [] };
  for (const a of allocations) {
    const key = keyOf(a.protocol, a.port);
    const found = byPort.get(key) ?? [];
    byPort.delete(key);
    const item = { project: a.project, service: a.service, port: a.port, protocol: a.protocol, expectedCommand: a.command };
    if (found.length === 0) groups.down.push({ ...item, sockets: [], reason: null });
    const judged = found.map((l) => ({ l, reason: strangerReason(a, l, evidence) }));
    const owners = judged.filter((j) => j.reason === null).map((j) => j.l);
    const strangers = judged.filter((j) => j.reason !== null);
    if (owners.length > 0) groups.ok.push({ ...item, sockets: owners.map(toSocket), reason: null });
    if (strangers.length > 0) groups.conflict.push({ ...item, sockets: strangers.map((j) => toSocket(j.l)), reason: [...new Set(strangers.map((j) => j.reason))].join('; ') });
  }
  for (const found of byPort.values()) {
    const { port, protocol } = found[0]!;
    const owner = ranges.find((p) => inRange(p.range, port));
    // The daemon's own socket in a range made after it started (it reserves its port at start): not a stranger to adopt.
    const { daemon } = evidence;
    const itself = daemon && port === daemon.port && found.some((l) => l.processes.some((p) => p.pid === daemon.pid));
    const reason = itself ? `the supervisor daemon itself (pid ${daemon.pid}) listens here; it reserves its own port when it starts: restart it to reserve this one` : null;
    if (owner) groups.unknown.push({ project: owner.project, service: null, port, protocol, expectedCommand: null, sockets: found.map(toSocket), reason });
  }
  const order = (x: AuditItem, y: AuditItem) => x.project.localeCompare(y.project) || x.port - y.port || x.protocol.localeCompare(y.protocol);
  for (const group of Object.values(groups)) group.sort(order);
  return groups;
}
