import { defineDomain, need } from '../catalog/domain.js';
import type { ProjectLookup } from '../projects/index.js';
import { authOperations } from './operations.js';
import { tokenProjectData, type AuthService } from './service.js';
import { TokenService } from './tokens.js';

export type { AuthService } from './service.js';
export type { TokenService } from './tokens.js';

/** Auth: bearer tokens for projects and admins, and the audit log of what they did. */
export const authDomain = defineDomain({
  id: 'auth',
  title: 'Tokens and audit',
  description: 'Tokens and audit: get_identity tells which scope this connection has; admins create and revoke tokens and read the audit log.',
  cliGroups: ['token', 'audit'],
  defaultFor: ['project', 'meta'],
  needs: { projects: need<ProjectLookup>() },
  create: ({ core, needs }): AuthService => ({ tokens: new TokenService(core.db, core.clock, core.audit, core.log), audit: core.audit, projects: needs.projects }),
  operations: authOperations,
  projectData: (svc) => tokenProjectData(svc.tokens),
  start: (svc) => svc.tokens.start(),
  stop: (svc) => svc.tokens.stop(),
});
