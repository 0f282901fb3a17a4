import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import { conflict } from '../core/errors.js';
import type { Tx } from '../core/db.js';
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
    added: (project, tx, actor, options) => settleDeleted(deps, project, tx, actor, options.deletedSecrets),
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
      return { what: 'secrets and grants', count: rows[0]?.total ?? 0, sample: rows.map((r) => r.item) };
    },
    release: async (project, tx, actor, afterCommit) => {
      const now = deps.clock.now();
      const { lower, upper } = prefixBounds(projectFolder(project));
      const deleted = await tx.query(
        `UPDATE secrets SET deleted_at = $2, updated_at = $2 WHERE path ~>=~ $1 AND path ~<~ $3 AND deleted_at IS NULL AND current_version > 0`,
        [lower, now, upper],
      );
      const grants = await tx.query('DELETE FROM secret_grants WHERE project = $1 OR (prefix ~>=~ $2 AND prefix ~<~ $3)', [project, lower, upper]);
      // Cached rows of the deleted secrets, here and on the other daemons: forgotten before the
      // commit and again after it, since a read between the two fetches the rows as they were.
      deps.forgetAll();
      afterCommit(deps.forgetAll);
      await tx.query('SELECT pg_notify($1, $2)', [SECRETS_CHANNEL, FORGET_ALL]);
      if (deleted.rowCount + grants.rowCount > 0) {
        await deps.audit.record({ actor, action: 'secret.release_project', target: projectFolder(project), outcome: 'ok', detail: { deleted: deleted.rowCount, grants: grants.rowCount } }, tx);
      }
      return deleted.rowCount + grants.rowCount;
    },
  };
}

/**
 * Deleted secrets under a new project's folder: an earlier project's of that name (removed with
 * force), or deleted before. The new project's token could restore them, and read old versions
 * through a new one, so the admin adding it decides: keep them (the same project coming back)
 * or discard them for good. Live secrets already there (put in place for it, or written while an
 * earlier project of the name was being removed) stay; the answer names them, since its token reads them.
 */
async function settleDeleted(deps: { audit: AuditLog }, project: string, tx: Tx, actor: string, choice: 'keep' | 'discard' | undefined): Promise<string | undefined> {
  const folder = projectFolder(project);
  const { lower, upper } = prefixBounds(folder);
  const deleted = await sample(tx, lower, upper, true);
  const live = await sample(tx, lower, upper, false);
  const liveNote = live && `${folder} already holds ${live.total} secret${plural(live.total)} (${live.named}), which this project's token can read`;
  if (!deleted) return liveNote;
  const { total } = deleted;
  if (choice === undefined) {
    throw conflict(
      `${folder} holds ${total} deleted secret${plural(total)} (${deleted.named}), left by an earlier project ${project} or deleted before: its token could restore them. ` +
        'Add it with deletedSecrets: keep (the same project coming back) or deletedSecrets: discard (deleted for good)',
      { folder, deleted: total },
    );
  }
  let note = `kept ${total} deleted secret${plural(total)} under ${folder} (restore_secret brings one back)`;
  if (choice === 'discard') {
    await tx.query('DELETE FROM secrets WHERE path ~>=~ $1 AND path ~<~ $2 AND deleted_at IS NOT NULL', [lower, upper]);
    await deps.audit.record({ actor, action: 'secret.discard_deleted', target: folder, outcome: 'ok', detail: { discarded: total } }, tx);
    note = `discarded ${total} deleted secret${plural(total)} under ${folder} for good`;
  }
  return liveNote ? `${note}; ${liveNote}` : note;
}

const plural = (n: number) => (n === 1 ? '' : 's');

/** How many of the folder's secrets are deleted (or live), and the first few by path; undefined for none. */
async function sample(tx: Tx, lower: string, upper: string, deleted: boolean): Promise<{ total: number; named: string } | undefined> {
  const { rows } = await tx.query<{ path: string; total: number }>(
    `SELECT path, count(*) OVER ()::int AS total FROM secrets
      WHERE path ~>=~ $1 AND path ~<~ $2 AND (CASE WHEN $3 THEN deleted_at IS NOT NULL ELSE deleted_at IS NULL AND current_version > 0 END)
      ORDER BY path LIMIT 3`,
    [lower, upper, deleted],
  );
  const total = rows[0]?.total ?? 0;
  if (total === 0) return undefined;
  return { total, named: `${rows.map((r) => r.path).join(', ')}${total > rows.length ? ', …' : ''}` };
}
