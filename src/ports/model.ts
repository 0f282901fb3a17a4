import type { PortRange } from './range.js';

export type Protocol = 'tcp' | 'udp';

/** A project's port range: the ports domain's data about a project. */
export interface ProjectRange {
  project: string;
  range: PortRange;
  createdAt: Date;
}

export interface Allocation {
  project: string;
  service: string;
  host: string;
  port: number;
  protocol: Protocol;
  hostname: string | null;
  description: string | null;
  command: string | null;
  createdAt: Date;
}

/** The host name of allocations on the machine the supervisor runs on (the only one /proc can see). */
export const LOCAL_HOST = 'local';
export interface RangeRow {
  project: string;
  start: number;
  end: number;
  created_at: Date;
}

export interface AllocationRow {
  project: string;
  service: string;
  host: string;
  port: number;
  protocol: Protocol;
  hostname: string | null;
  description: string | null;
  command: string | null;
  created_at: Date;
}

/** Columns giving a RangeRow: the canonical [lower, upper) range read back as first and last port. */
export const RANGE_COLUMNS = `project, lower(port_range) AS start, upper(port_range) - 1 AS "end", created_at`;
export const ALLOCATION_COLUMNS = 'project, service, host, port, protocol, hostname, description, command, created_at';

export const toRange = (r: RangeRow): ProjectRange => ({
  project: r.project,
  range: { start: r.start, end: r.end },
  createdAt: r.created_at,
});

export const toAllocation = (r: AllocationRow): Allocation => ({
  project: r.project,
  service: r.service,
  host: r.host,
  port: r.port,
  protocol: r.protocol,
  hostname: r.hostname,
  description: r.description,
  command: r.command,
  createdAt: r.created_at,
});
