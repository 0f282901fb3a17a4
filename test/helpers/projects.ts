import type { AuditLog } from '../../src/core/audit.js';
import type { Clock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import type { ProjectRange } from '../../src/ports/model.js';
import type { PortRange } from '../../src/ports/range.js';
import type { PortService } from '../../src/ports/service.js';
import { ProjectService } from '../../src/projects/service.js';

/**
 * The projects registry wired to a PortService the way the app wires them (ports
 * gives each new project its range), with meta and shared created: for tests that
 * build a PortService on its own.
 */
export async function projectsFor(deps: { db: Db; clock: Clock; audit: AuditLog }, ports: PortService): Promise<ProjectService> {
  const projects = new ProjectService({ ...deps, data: () => [{ domain: 'ports', data: ports.projectData() }] });
  await projects.ensureBuiltins();
  return projects;
}

/** Adds a project (with an explicit port range, or the next free block) and answers its range. */
export async function addProject(
  target: { projects: ProjectService; ports: Pick<PortService, 'getRange'> },
  actor: string,
  input: { name: string; range?: PortRange; description?: string },
): Promise<ProjectRange> {
  await target.projects.add(actor, { name: input.name, description: input.description, options: { portRange: input.range } });
  return target.ports.getRange(input.name);
}
