/**
 * One OS process of race.test.ts's multi-process races: it opens its own pool on the
 * PostgreSQL schema named in its environment and runs the commands the test sends
 * over IPC, each as a burst of concurrent calls. Not a test file itself.
 */
import { adminPrincipal } from '../../src/core/principal.js';
import { AuditLog } from '../../src/core/audit.js';
import { systemClock } from '../../src/core/clock.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { SupervisorError } from '../../src/core/errors.js';
import { LINUX_DEFAULT_EPHEMERAL } from '../../src/ports/policy.js';
import type { PortRange } from '../../src/ports/range.js';
import { PortService } from '../../src/ports/service.js';
import { addProject, projectsFor } from '../helpers/projects.js';

export type RaceCommand =
  | { kind: 'allocate'; calls: Array<{ project: string; service: string }> }
  | { kind: 'addProject'; name: string; range?: PortRange }
  | { kind: 'resize'; name: string; range: PortRange }
  | { kind: 'exit' };

export type RaceReply =
  | { kind: 'allocated'; ports: Array<{ project: string; service: string; port: number; created: boolean }>; errors: string[] }
  /** What a project call (add or resize) did: its range, or the error it got. */
  | { kind: 'added'; ok: boolean; range: string | null; error: string | null };

const { RACE_DATABASE_URL: connectionString, RACE_SCHEMA: schema } = process.env;
if (!connectionString || !schema || !process.send) throw new Error('race-worker runs as a child of race.test.ts (IPC, RACE_DATABASE_URL, RACE_SCHEMA)');

const db = await openPostgres({ connectionString, schema, maxConnections: 8 });
const audit = new AuditLog(db, systemClock);
const ports = new PortService({ db, clock: systemClock, audit, ephemeralRange: async () => LINUX_DEFAULT_EPHEMERAL });
const projects = await projectsFor({ db, clock: systemClock, audit }, ports);
const actor = adminPrincipal(`race-worker-${process.pid}`);
const reply = (message: RaceReply | { kind: 'ready' }) => process.send!(message);
const describeError = (err: unknown) => (err instanceof SupervisorError ? `${err.code}: ${err.message}` : String(err));

async function run(command: RaceCommand): Promise<void> {
  if (command.kind === 'exit') {
    await db.close();
    process.exit(0);
  }
  if (command.kind === 'allocate') {
    const settled = await Promise.allSettled(command.calls.map((c) => ports.allocate(actor, c)));
    reply({
      kind: 'allocated',
      ports: settled.flatMap((s) => (s.status === 'fulfilled' ? [{ project: s.value.project, service: s.value.service, port: s.value.port, created: s.value.created }] : [])),
      errors: settled.flatMap((s) => (s.status === 'rejected' ? [describeError(s.reason)] : [])),
    });
    return;
  }
  try {
    const project = command.kind === 'resize'
      ? await ports.setRange(actor.actor, { project: command.name, range: command.range })
      : await addProject({ projects, ports }, actor.actor, { name: command.name, range: command.range });
    reply({ kind: 'added', ok: true, range: `${project.range.start}-${project.range.end}`, error: null });
  } catch (err) {
    reply({ kind: 'added', ok: false, range: null, error: describeError(err) });
  }
}

process.on('message', (command: RaceCommand) => void run(command));
reply({ kind: 'ready' });
