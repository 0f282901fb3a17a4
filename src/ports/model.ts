import type { PortRange } from './range.js';

export type Protocol = 'tcp' | 'udp';

export interface Project {
  name: string;
  range: PortRange;
  description: string | null;
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
/** Projects every installation has: the supervisor's own, and one for services many projects use. */
export const META_PROJECT = 'meta';
export const SHARED_PROJECT = 'shared';

export interface ProjectRow {
  name: string;
  start: number;
  end: number;
  description: string | null;
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

/** Columns giving a ProjectRow: the canonical [lower, upper) range read back as first and last port. */
export const PROJECT_COLUMNS = `name, lower(port_range) AS start, upper(port_range) - 1 AS "end", description, created_at`;
export const ALLOCATION_COLUMNS = 'project, service, host, port, protocol, hostname, description, command, created_at';

export const toProject = (r: ProjectRow): Project => ({
  name: r.name,
  range: { start: r.start, end: r.end },
  description: r.description,
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
