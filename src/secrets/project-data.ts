import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { ProjectData } from '../core/project-data.js';
import { projectFolder } from './access.js';
import { prefixBounds } from './paths.js';
import { FORGET_ALL, SECRETS_CHANNEL } from './read-cache.js';

/**
 * A project's secrets (its folder) and grants, its own and other projects' grants into its
 * folder: listed before the project is removed; with force the secrets are soft-deleted
 * (restore_secret brings one back) and the grants dropped (a grant into the folder would
 * otherwise open a later project of the same name to the project it was given to).
 */
export function secretProjectData(deps: { audit: AuditLog; clock: Clock; forgetAll(): void }): ProjectData {
  return {
    owned: async (project, q) => {
      const { lower, upper } = prefixBounds(projectFolder(project));
      const { rows } = await q.query<{ item: string; total: number }>(
        `SELECT item, count(*) OVER ()::int AS total FROM (
           SELECT path AS item FROM secrets WHERE path ~>=~ $1 AND path ~<~ $3 AND deleted_at IS NULL AND current_version > 0
           UNION ALL SELECT 'grant ' || prefix || ' (' || access || ')' FROM secret_grants WHERE project = $2
           UNION ALL SELECT 'grant ' || prefix || ' to ' || project || ' (' || access || ')' FROM secret_grants WHERE project <> $2 AND prefix ~>=~ $1 AND prefix ~<~ $3
         ) owned ORDER BY item LIMIT 5`,
        [lower, project, upper],
      );
      return { count: rows[0]?.total ?? 0, sample: rows.map((r) => r.item) };
    },
    release: async (project, tx, actor) => {
      const now = deps.clock.now();
      const { lower, upper } = prefixBounds(projectFolder(project));
      const deleted = await tx.query(
        `UPDATE secrets SET deleted_at = $2, updated_at = $2 WHERE path ~>=~ $1 AND path ~<~ $3 AND deleted_at IS NULL AND current_version > 0`,
        [lower, now, upper],
      );
      const grants = await tx.query('DELETE FROM secret_grants WHERE project = $1 OR (prefix ~>=~ $2 AND prefix ~<~ $3)', [project, lower, upper]);
      // Cached rows of the deleted secrets, here and on the other daemons.
      deps.forgetAll();
      await tx.query('SELECT pg_notify($1, $2)', [SECRETS_CHANNEL, FORGET_ALL]);
      if (deleted.rowCount + grants.rowCount > 0) {
        await deps.audit.record({ actor, action: 'secret.release_project', target: projectFolder(project), outcome: 'ok', detail: { deleted: deleted.rowCount, grants: grants.rowCount } }, tx);
      }
      return deleted.rowCount + grants.rowCount;
    },
  };
}
