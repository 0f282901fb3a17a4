import { AuditLog } from '../../src/core/audit.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { LINUX_DEFAULT_EPHEMERAL, type PortPolicy } from '../../src/ports/policy.js';
import type { Listener } from '../../src/ports/probe.js';
import type { PortRange } from '../../src/ports/range.js';
import { PortService } from '../../src/ports/service.js';
import type { ProjectService } from '../../src/projects/service.js';
import { openTestDb, type Backend } from '../helpers/db.js';
import { projectsFor } from '../helpers/projects.js';

/** The ephemeral range tests run with, whatever the host says. */
export const TEST_EPHEMERAL: PortRange = LINUX_DEFAULT_EPHEMERAL;

export interface PortsFixture {
  db: Db;
  clock: ManualClock;
  audit: AuditLog;
  ports: PortService;
  projects: ProjectService;
  close(): Promise<void>;
}

export interface FixtureOptions {
  policy?: Partial<PortPolicy>;
  ephemeral?: PortRange;
  listeners?: () => Promise<Listener[]>;
}

/** A PortService on a fresh migrated database, with a manual clock and a fixed ephemeral range. */
export async function openPorts(backend: Backend, options: FixtureOptions = {}): Promise<PortsFixture> {
  const db = await openTestDb(backend);
  const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
  const audit = new AuditLog(db, clock);
  const ephemeral = options.ephemeral ?? TEST_EPHEMERAL;
  const ports = new PortService({ db, clock, audit, policy: options.policy, ephemeralRange: async () => ephemeral, listeners: options.listeners });
  return { db, clock, audit, ports, projects: await projectsFor({ db, clock, audit }, ports), close: () => db.close() };
}

/** Rows in the projects and ports tables, to prove a refused call wrote nothing. */
export async function tableCounts(db: Db): Promise<{ projects: number; ranges: number; allocations: number }> {
  const { rows } = await db.query<{ projects: number; ranges: number; allocations: number }>(
    'SELECT (SELECT count(*)::int FROM projects) AS projects, (SELECT count(*)::int FROM port_ranges) AS ranges, (SELECT count(*)::int FROM port_allocations) AS allocations',
  );
  return rows[0]!;
}
