import { defineDomain, need } from '../catalog/domain.js';
import type { KnowledgeService } from '../knowledge/index.js';
import type { ProjectLookup } from '../projects/index.js';
import type { TaskService } from '../tasks/index.js';
import { agentOperations } from './operations.js';
import { AgentService } from './service.js';
import { agentSettings } from './settings.js';

export type { AgentService } from './service.js';

/** The PIV loop: Plan → Implement → Validate in a project's repository, with a local coding agent. */
export const agentDomain = defineDomain({
  id: 'agent',
  title: 'PIV loops',
  description:
    "PIV loops: a coding agent plans, implements and validates a feature on a branch of the project's repository; start_piv starts one; get_piv_status follows one.",
  cliGroups: ['piv'],
  // On request (`default,agent`): the meta endpoint's default list has no room left in its budget.
  defaultFor: [],
  settings: agentSettings,
  needs: {
    projects: need<ProjectLookup>(),
    tasks: need<Pick<TaskService, 'start' | 'complete' | 'fail' | 'cancel' | 'interrupt' | 'interruptRunning'>>(),
    knowledge: need<Pick<KnowledgeService, 'add' | 'search'>>(),
  },
  migrations: new URL('./migrations/', import.meta.url),
  create: ({ core, settings, needs }) =>
    new AgentService({ db: core.db, clock: core.clock, log: core.log, audit: core.audit, settings, projects: needs.projects, tasks: needs.tasks, knowledge: needs.knowledge, longRunning: core.longRunning, presence: core.presence }),
  operations: agentOperations,
  projectData: (svc) => svc.projectData(),
  start: (svc) => svc.startup(),
  stop: (svc) => svc.shutdown(),
});
