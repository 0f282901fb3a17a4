import { defineDomain, need } from '../catalog/domain.js';
import type { ProjectLookup } from '../projects/index.js';
import { knowledgeOperations } from './operations.js';
import { KnowledgeService } from './service.js';

export type { KnowledgeService, KnowledgeHit, AddKnowledgeInput } from './service.js';

/** Knowledge: each project's notes and loop learnings, found by full-text search. */
export const knowledgeDomain = defineDomain({
  id: 'knowledge',
  title: 'Knowledge',
  description: "Knowledge: a project's notes and the learnings of its PIV loops; search_knowledge before solving a problem twice, add_knowledge after solving one.",
  defaultFor: [],
  migrations: new URL('./migrations/', import.meta.url),
  needs: { projects: need<ProjectLookup>() },
  create: ({ core, needs }) => new KnowledgeService({ db: core.db, clock: core.clock, audit: core.audit, projects: needs.projects }),
  operations: knowledgeOperations,
  projectData: (svc) => svc.projectData(),
});
