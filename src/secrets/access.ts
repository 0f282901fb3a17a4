import type { Principal } from '../core/principal.js';
import type { Queryable } from '../core/db.js';
import { isUnder } from './paths.js';

export type AccessMode = 'read' | 'write';

export interface Grant {
  project: string;
  prefix: string;
  access: AccessMode;
}

/** A project's own folder: readable and writable by that project without any grant. */
export const projectFolder = (project: string) => `project/${project}/`;

/** The project whose folder `prefix` is in (`project/consilio/db/` → consilio), if any. */
export function projectOfFolder(prefix: string): string | undefined {
  const [root, project] = prefix.split('/');
  return root === 'project' && project ? project : undefined;
}

/** Paths a principal may always use; grants add to this. */
export function ownsPath(principal: Principal, path: string): boolean {
  return principal.role === 'admin' || isUnder(path, projectFolder(principal.project));
}

export async function grantsFor(q: Queryable, project: string): Promise<Grant[]> {
  const { rows } = await q.query<Grant>('SELECT project, prefix, access FROM secret_grants WHERE project = $1', [project]);
  return rows;
}

/** Whether a grant lets `mode` happen on `path` (write grants include read). */
export function grantAllows(grants: Grant[], path: string, mode: AccessMode): boolean {
  return grants.some((g) => isUnder(path, g.prefix) && (mode === 'read' || g.access === 'write'));
}
