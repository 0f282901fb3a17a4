import { stat } from 'node:fs/promises';
import { folderKey, throughLinks } from '../core/folder-key.js';
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db, Queryable } from '../core/db.js';
import { conflict, invalidInput, notFound } from '../core/errors.js';
import { decodeCursor, encodeCursor, type Page } from '../core/page.js';
import type { ProjectDataSources, ProjectOptions } from '../core/project-data.js';
import { BUILTIN_PROJECTS, PROJECT_COLUMNS, toProject, type Holdings, type Project, type ProjectRow } from './model.js';

export interface ProjectServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  /** What the other domains hold about projects. */
  data: ProjectDataSources;
}

export interface AddProjectInput {
  name: string;
  description?: string | null;
  directory?: string | null;
  options?: ProjectOptions;
}

const BUILTIN = new Set(BUILTIN_PROJECTS.map((p) => p.name));
const noProject = (name: string) => notFound(`no project ${name}; \`list_projects\` shows the projects, \`add_project\` creates one`);

/** A note for the answer when a project's directory is not (yet) a directory on this host. */
async function directoryNote(directory: string | null | undefined): Promise<string | undefined> {
  if (!directory) return undefined;
  const found = await stat(directory).catch(() => undefined);
  if (!found) return `directory ${directory} does not exist on this host yet`;
  return found.isDirectory() ? undefined : `${directory} is not a directory`;
}

/** Another project at the same path: the two would write one CLAUDE.md, so instructions refuse both. */
async function sharedNote(q: Queryable, name: string, directory: string | null | undefined): Promise<string | undefined> {
  if (!directory) return undefined;
  const { rows } = await q.query<{ name: string; directory: string }>('SELECT name, directory FROM projects WHERE directory IS NOT NULL AND name <> $1 ORDER BY name', [name]);
  // The same folder by another path (a link) is shared too: instructions compare folders so.
  const key = await folderKey(directory);
  const keys = await Promise.all(rows.map((r) => folderKey(r.directory)));
  const sharing = rows.filter((_, i) => keys[i] === key);
  if (sharing.length === 0) return undefined;
  const how = throughLinks(directory, sharing.map((r) => r.directory));
  return `${directory} is also the directory of ${sharing.map((r) => r.name).join(', ')}${how}: instructions are refused for each project sharing a directory until each has its own`;
}

function describeHoldings(held: Holdings[]): string {
  return held.map((h) => `${h.what}: ${h.count} (${h.sample.join(', ')}${h.count > h.sample.length ? ', …' : ''})`).join('; ');
}

/**
 * The project registry: a name, a description, a directory on this host. Other
 * domains refer to projects and say what they hold about one (ProjectData), so
 * adding a project lets them set it up in the same transaction, and removing
 * one lists what it still owns or releases it all at once.
 */
export class ProjectService {
  constructor(private readonly deps: ProjectServiceDeps) {}

  /** Creates meta and shared on first start (each domain sets them up as for any new project). */
  async ensureBuiltins(): Promise<void> {
    for (const builtin of BUILTIN_PROJECTS) await this.add('system:supervisor', builtin);
  }

  /**
   * Adds a project; repeating the call answers the existing one. A differing
   * description or directory is refused: `update_project` changes them.
   */
  async add(actor: string, input: AddProjectInput): Promise<{ project: Project; created: boolean; notes: string[] }> {
    const note = await directoryNote(input.directory);
    return this.deps.db.transaction(async (tx) => {
      const now = this.deps.clock.now();
      const { rows } = await tx.query<ProjectRow>(
        `INSERT INTO projects (name, description, directory, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (name) DO NOTHING RETURNING ${PROJECT_COLUMNS}`,
        [input.name, input.description ?? null, input.directory ?? null, now],
      );
      if (!rows[0]) return { project: await this.unchanged(tx, await this.find(input.name, tx), input), created: false, notes: [] };
      const shared = await sharedNote(tx, input.name, input.directory);
      const notes = [note, shared].filter((n) => n !== undefined);
      for (const { data } of this.deps.data()) {
        const added = await data.added?.(input.name, tx, actor, input.options ?? {});
        if (added) notes.push(added);
      }
      await this.deps.audit.record({ actor, action: 'project.add', target: input.name, outcome: 'ok', detail: { directory: input.directory ?? null } }, tx);
      return { project: toProject(rows[0]), created: true, notes };
    });
  }

  private async unchanged(q: Queryable, existing: Project | undefined, input: AddProjectInput): Promise<Project> {
    if (!existing) throw conflict(`project ${input.name} was removed while being added; try again`);
    const differs = (['description', 'directory'] as const).filter((f) => input[f] !== undefined && input[f] !== existing[f]);
    if (differs.length > 0) {
      throw conflict(`project ${input.name} already exists with another ${differs.join(' and ')}; \`update_project\` changes ${differs.length > 1 ? 'them' : 'it'}`, { fields: differs });
    }
    for (const { data } of this.deps.data()) {
      const reason = await data.differs?.(input.name, q, input.options ?? {});
      if (reason) throw conflict(`project ${input.name} already exists: ${reason}`);
    }
    return existing;
  }

  async get(name: string): Promise<Project> {
    const project = await this.find(name, this.deps.db);
    if (!project) throw noProject(name);
    return project;
  }

  /**
   * For a transaction that writes something under `name` (a token, a grant, a task): the project
   * exists, and stays until that transaction ends. A removal under way is waited for, and then the
   * project is gone (not_found); a removal that starts later waits, then finds what was written
   * and releases or refuses it. Checked before the transaction instead, a write racing a removal
   * was left behind, and a later project of that name inherited it (a token, a grant).
   */
  async hold(name: string, tx: Queryable): Promise<Project> {
    const project = await this.find(name, tx, 'FOR KEY SHARE');
    if (!project) throw noProject(name);
    return project;
  }

  /** A project and what each domain holds for it. */
  async describe(name: string): Promise<{ project: Project; holdings: Holdings[] }> {
    const project = await this.get(name);
    return { project, holdings: await this.holdings(name, this.deps.db) };
  }

  async list(page: { limit: number; cursor?: string }): Promise<Page<Project>> {
    const after = page.cursor !== undefined ? decodeCursor(page.cursor) : '';
    const { rows } = await this.deps.db.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE name > $1 ORDER BY name LIMIT $2`, [after, page.limit + 1]);
    const items = rows.slice(0, page.limit).map(toProject);
    return { items, nextCursor: rows.length > page.limit ? encodeCursor(items.at(-1)!.name) : null };
  }

  async update(actor: string, name: string, change: { description?: string | null; directory?: string | null }): Promise<{ project: Project; notes: string[] }> {
    if (change.description === undefined && change.directory === undefined) throw invalidInput('give description or directory (null clears it)', { fields: ['description', 'directory'] });
    const note = await directoryNote(change.directory);
    const { rows } = await this.deps.db.query<ProjectRow>(
      `UPDATE projects SET description = CASE WHEN $2 THEN $3 ELSE description END,
         directory = CASE WHEN $4 THEN $5 ELSE directory END, updated_at = $6
       WHERE name = $1 RETURNING ${PROJECT_COLUMNS}`,
      [name, change.description !== undefined, change.description ?? null, change.directory !== undefined, change.directory ?? null, this.deps.clock.now()],
    );
    if (!rows[0]) throw noProject(name);
    await this.deps.audit.record({ actor, action: 'project.update', target: name, outcome: 'ok', detail: { fields: Object.keys(change) } });
    const shared = await sharedNote(this.deps.db, name, change.directory);
    return { project: toProject(rows[0]), notes: [note, shared].filter((n) => n !== undefined) };
  }

  /**
   * Removes a project. Refused while any domain still holds something for it,
   * with the list, unless `force`: then every domain releases its part in the
   * same transaction (ports freed, secrets soft-deleted, tokens revoked).
   */
  async remove(actor: string, input: { name: string; force: boolean }): Promise<{ project: string; removed: boolean; released: Holdings[] }> {
    if (BUILTIN.has(input.name)) throw invalidInput(`project ${input.name} is built in and cannot be removed`);
    const effects: Array<() => void> = [];
    const removed = await this.deps.db.transaction(async (tx) => {
      if (!(await this.find(input.name, tx, 'FOR UPDATE'))) throw noProject(input.name);
      const sources = this.deps.data();
      for (const { data } of sources) await data.lock?.(input.name, tx);
      const held = (await this.holdings(input.name, tx)).filter((h) => h.count > 0);
      if (held.length > 0 && !input.force) {
        throw conflict(`project ${input.name} still owns ${describeHoldings(held)}; release them, or remove it with force (\`supervisor project remove ${input.name} --force\`) to release them all`, {
          holdings: held,
        });
      }
      for (const { data } of sources) await data.release(input.name, tx, actor, (effect) => effects.push(effect));
      await tx.query('DELETE FROM projects WHERE name = $1', [input.name]);
      await this.deps.audit.record({ actor, action: 'project.remove', target: input.name, outcome: 'ok', detail: { released: held.map((h) => ({ domain: h.domain, count: h.count })) } }, tx);
      return { project: input.name, removed: true, released: held };
    });
    for (const effect of effects) effect();
    return removed;
  }

  private async holdings(name: string, q: Queryable): Promise<Holdings[]> {
    const result: Holdings[] = [];
    for (const { domain, data } of this.deps.data()) result.push({ domain, ...(await data.owned(name, q)) });
    return result;
  }

  /** No outer-handle query inside a transaction: PGlite has one connection, and it would wait forever. */
  private async find(name: string, q: Queryable, lock: '' | 'FOR UPDATE' | 'FOR KEY SHARE' = ''): Promise<Project | undefined> {
    const { rows } = await q.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE name = $1 ${lock}`, [name]);
    return rows[0] && toProject(rows[0]);
  }
}
