import type { Queryable, Tx } from './db.js';

/** A few of the things a domain holds for a project, and how many there are in all. */
export interface OwnedItems {
  /** What they are, as a person calls them, plural ("tokens", "PIV loops"): how a refused removal names them. */
  what: string;
  count: number;
  /** Up to a handful of names a person recognises ("port web 3101", "secret project/x/db_url"). */
  sample: string[];
}

/**
 * Choices made when a project is added that other domains act on. Each domain
 * reads the fields it knows; add_project offers them so that adding a project
 * with everything it needs stays one call and one transaction.
 */
export interface ProjectOptions {
  /** Ports: an explicit port range instead of the next free block. */
  portRange?: { start: number; end: number };
  /** Secrets: what becomes of deleted secrets already under the new project's folder (an earlier project's of that name). */
  deletedSecrets?: 'keep' | 'discard';
}

/** Takes an effect to run once a transaction has committed; the effect must not throw (it logs its own failures). */
export type AfterCommit = (effect: () => void) => void;

/**
 * What a domain keeps about a project. Projects are their own domain and none of
 * the others owns one; each that refers to projects says here what it holds, so
 * that removing a project can list it, refuse, or release it all in one transaction.
 */
export interface ProjectData {
  /** Runs inside the transaction that adds the project (ports give it a range); the note goes into the answer. */
  added?(project: string, tx: Tx, actor: string, options: ProjectOptions): Promise<string | undefined>;
  /** For a project that already exists: why `options` do not describe it, or undefined when they do. */
  differs?(project: string, q: Queryable, options: ProjectOptions): Promise<string | undefined>;
  /** Runs first in the removal transaction: lock what must not change before the check (new rows for the project). */
  lock?(project: string, tx: Tx): Promise<void>;
  owned(project: string, q: Queryable): Promise<OwnedItems>;
  /**
   * Runs inside the transaction that removes the project (with force); returns how many items
   * went. What it does outside the database (a process stopped, a cache emptied) it hands to
   * `afterCommit`, which runs it once the removal has committed, and never if it rolls back.
   */
  release(project: string, tx: Tx, actor: string, afterCommit: AfterCommit): Promise<number>;
}

/** ProjectData of every domain that declares some, in domain order. */
export type ProjectDataSources = () => ReadonlyArray<{ domain: string; data: ProjectData }>;
