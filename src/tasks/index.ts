import { defineDomain, need } from '../catalog/domain.js';
import type { ProjectLookup } from '../projects/index.js';
import { taskOperations } from './operations.js';
import { TaskService } from './service.js';

export type { Complexity, Task } from './model.js';
export type { TaskService, StartTaskInput } from './service.js';

/** Tasks: how long work takes, per type and project, and estimates for new work from it. */
export const tasksDomain = defineDomain({
  id: 'tasks',
  title: 'Tasks',
  description: 'Tasks: time work with start_task and complete_task/fail_task; estimate_task says how long similar work took (p50/p90).',
  defaultFor: [],
  migrations: new URL('./migrations/', import.meta.url),
  needs: { projects: need<ProjectLookup>() },
  create: ({ core, needs }) => new TaskService({ db: core.db, clock: core.clock, projects: needs.projects }),
  operations: taskOperations,
  projectData: (svc) => svc.projectData(),
});
