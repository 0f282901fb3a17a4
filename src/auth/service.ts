import type { AuditLog } from '../core/audit.js';
import type { ProjectData } from '../core/project-data.js';
import type { ProjectLookup } from '../projects/index.js';
import type { TokenService } from './tokens.js';

/** Tokens and the audit log: who may call, and what they did. */
export interface AuthService {
  tokens: TokenService;
  audit: AuditLog;
  /** A project token is made only for a project that exists. */
  projects: ProjectLookup;
}

/** A project's tokens: listed before it is removed, revoked with it. */
export function tokenProjectData(tokens: TokenService): ProjectData {
  return {
    owned: async (project, q) => {
      const active = await tokens.listIn(q, { project, includeRevoked: false });
      return { what: 'tokens', count: active.length, sample: active.slice(0, 5).map((t) => `token ${t.name} (${t.id})`) };
    },
    release: (project, tx, actor, afterCommit) => tokens.revokeProject(tx, project, actor, afterCommit),
  };
}
