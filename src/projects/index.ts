import { defineDomain } from '../catalog/domain.js';
import type { AppCore } from '../catalog/wire.js';
import { META } from '../core/names.js';
import { projectOperations } from './operations.js';
import { ProjectService } from './service.js';

export type { Project } from './model.js';
export type { ProjectService } from './service.js';

/**
 * What a domain that stores things under a project name needs: `get` throws not_found for a name
 * no project has (a typo must not make a ghost project); `hold` does too, inside the transaction
 * that writes, so a removal cannot slip in between the check and the write.
 */
export type ProjectLookup = Pick<import('./service.js').ProjectService, 'get' | 'hold'>;

/**
 * An adapter narrowed to a project (`/mcp/<project>`, `supervisor mcp --project`, a CLI
 * command's --project) checks it exists: a server for a typo served every tool and filed what
 * it wrote under a name no project has. `meta` is the admin scope.
 */
export async function assertProjectExists(app: Pick<AppCore, 'serviceOf'>, project: string): Promise<void> {
  if (project === META) return;
  await (app.serviceOf('projects') as ProjectLookup).get(project);
}

/** Projects: the names every other domain refers to, and each one's directory on this host. */
export const projectsDomain = defineDomain({
  id: 'projects',
  title: 'Projects',
  description: 'Projects: the name every port, secret and route belongs to, and its directory on this host.',
  cliGroups: ['project'],
  defaultFor: ['project', 'meta'],
  create: ({ core }) => new ProjectService({ db: core.db, clock: core.clock, audit: core.audit, data: core.projectData }),
  operations: projectOperations,
  start: (svc) => svc.ensureBuiltins(),
});
