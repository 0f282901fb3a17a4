import { META, SHARED } from '../core/names.js';

export interface Project {
  name: string;
  description: string | null;
  /** The project's checkout on this host, absolute; null when it has none here. */
  directory: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProjectRow {
  name: string;
  description: string | null;
  directory: string | null;
  created_at: Date;
  updated_at: Date;
}

export const PROJECT_COLUMNS = 'name, description, directory, created_at, updated_at';

export const toProject = (r: ProjectRow): Project => ({
  name: r.name,
  description: r.description,
  directory: r.directory,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Projects every installation has, created on first start; they cannot be removed. */
export const BUILTIN_PROJECTS: ReadonlyArray<{ name: string; description: string }> = [
  { name: META, description: 'The supervisor and its own services' },
  { name: SHARED, description: 'Services used by several projects' },
];

/** What each domain holds for a project. */
export interface Holdings {
  domain: string;
  /** What they are, plural, as a refused removal names them. */
  what: string;
  count: number;
  sample: string[];
}
