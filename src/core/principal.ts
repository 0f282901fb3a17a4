import { userInfo } from 'node:os';
import { META } from './names.js';
import { forbidden } from './errors.js';

/** Who is calling: an admin, or one project. `actor` names them in audit rows. */
export type Principal = { role: 'admin'; actor: string } | { role: 'project'; project: string; actor: string };

export const adminPrincipal = (actor: string): Principal => ({ role: 'admin', actor });
export const projectPrincipal = (project: string, actor: string): Principal => ({ role: 'project', project, actor });

/**
 * The data dir's owner acting without a token (the CLI on its own, or through the daemon with
 * its local credential): one name in the audit log either way, the account's, not $USER.
 */
export const localActor = (): string => `local:${userInfo().username}`;

/** Whether the principal may act in `project`: an admin anywhere, a project token in its own project only. */
export const mayUse = (principal: Principal, project: string): boolean => principal.role === 'admin' || principal.project === project;

/** A project token acts in its own project only (`what`: the project's things it asked for, "the tasks"). */
export function assertOwnProject(principal: Principal, project: string, what: string): void {
  if (mayUse(principal, project)) return;
  throw forbidden(`this token belongs to project ${scopeOf(principal)} and cannot use ${what} of project ${project}`);
}

/** The project a principal acts for (`meta` for admins). */
export const scopeOf = (p: Principal): string => (p.role === 'admin' ? META : p.project);

/**
 * The principal an MCP server for `project` runs as: the meta server needs
 * admin; a project server runs with that project's scope even for an admin
 * token, so its tools see exactly what the project's own token would.
 */
export function principalForProject(caller: Principal, project: string): Principal {
  if (project === META) {
    if (caller.role !== 'admin') throw forbidden(`the ${META} server needs an admin token; this token belongs to project ${scopeOf(caller)}`);
    return caller;
  }
  if (caller.role === 'project' && caller.project !== project) {
    throw forbidden(`this token belongs to project ${caller.project} and cannot use project ${project}'s server`);
  }
  return caller.role === 'admin' ? projectPrincipal(project, `${caller.actor}@${project}`) : caller;
}
