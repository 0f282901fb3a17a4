import { defineDomain } from '../catalog/domain.js';
import { projectOperations } from './operations.js';
import { ProjectService } from './service.js';

export type { Project } from './model.js';
export type { ProjectService } from './service.js';

/** What a domain that stores things under a project name needs: `get` throws not_found for a name no project has (a typo must not make a ghost project). */
export type ProjectLookup = Pick<import('./service.js').ProjectService, 'get'>;

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
