import type { Allocation, ProjectRange, Protocol } from './model.js';
import type { Listener } from './probe.js';
import { inRange } from './range.js';

/** One socket as the audit reports it. */
export interface Socket {
  address: string;
  family: 4 | 6;
  pid: number | null;
  command: string | null;
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
}

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
const toSocket = (l: Listener): Socket => ({ address: l.address, family: l.family, pid: l.pid, command: l.command });

/**
 * Whether a socket belongs to an allocation's owner. Only positive evidence makes a
 * conflict: with no recorded command, or a socket whose process we cannot see (another
 * user's), the listener is taken to be the owner.
 */
function ownedBy(allocation: Allocation, listener: Listener): boolean {
  if (allocation.command === null || listener.command === null) return true;
  return listener.command.includes(allocation.command);
}

/** Sorts the four groups' input once: local allocations and the host's listeners in, groups out. */
export function reconcile(allocations: Allocation[], ranges: ProjectRange[], listeners: Listener[]): AuditGroups {
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
    if (found.length === 0) groups.down.push({ ...item, sockets: [] });
    const owners = found.filter((l) => ownedBy(a, l));
    const strangers = found.filter((l) => !ownedBy(a, l));
    if (owners.length > 0) groups.ok.push({ ...item, sockets: owners.map(toSocket) });
    if (strangers.length > 0) groups.conflict.push({ ...item, sockets: strangers.map(toSocket) });
  }
  for (const found of byPort.values()) {
    const { port, protocol } = found[0]!;
    const owner = ranges.find((p) => inRange(p.range, port));
    if (owner) groups.unknown.push({ project: owner.project, service: null, port, protocol, expectedCommand: null, sockets: found.map(toSocket) });
  }
  const order = (x: AuditItem, y: AuditItem) => x.project.localeCompare(y.project) || x.port - y.port || x.protocol.localeCompare(y.protocol);
  for (const group of Object.values(groups)) group.sort(order);
  return groups;
}
