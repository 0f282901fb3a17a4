// The git operations of the PIV loop, run with execFile (no shell: paths and messages are
// arguments, never parsed by a shell). Files are staged by name only; nothing here ever runs
// `git add -A` or `git add .`, so a stray build output or secret file is never committed blindly.
import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { SupervisorError, conflict, invalidInput } from '../core/errors.js';

const exec = promisify(execFile);

export interface GitAuthor {
  name: string;
  email: string;
}

export interface Commit {
  sha: string;
  subject: string;
}

export interface FileChange {
  /** Relative to the repository root, with forward slashes. */
  path: string;
  /** For a staged rename, the old path. */
  from?: string;
  /** Some of the change is in the index already. */
  staged: boolean;
  /** Some of the change is only in the working tree (an untracked file counts). */
  unstaged: boolean;
  /** New and not in the index: git does not know the file yet. */
  untracked: boolean;
}

const TIMEOUT_MS = 60_000;
const MAX_BUFFER = 64 * 1024 * 1024;
const SLUG_MAX = 40;

/**
 * `feature/<slug>`'s slug: lowercase ASCII letters, digits and dashes, cut at a word boundary,
 * so the branch name is valid and readable ("Add a /health endpoint!" → "add-a-health-endpoint").
 */
export function featureSlug(description: string): string {
  const words = description
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  let slug = '';
  for (const word of words) {
    const next = slug ? `${slug}-${word}` : word;
    if (next.length > SLUG_MAX) break;
    slug = next;
  }
  return slug || (words[0] ?? 'change').slice(0, SLUG_MAX);
}

/** The git config key (under branch.<name>) recording the branch a loop's branch was made from. */
const BASE_KEY = 'supervisorBase';

export class Git {
  private constructor(
    /** The repository's top folder, symlinks resolved. */
    readonly root: string,
    private readonly author: GitAuthor | undefined,
  ) {}

  /**
   * Opens the repository whose top folder `dir` is; refuses a folder that is not in one, and a
   * folder inside another repository (a subfolder, or a plain folder in someone's checkout): a
   * loop there would run its agent, validation and commits at that repository's root instead.
   */
  static async open(dir: string, author?: GitAuthor): Promise<Git> {
    // git would say ENOENT for the missing working folder, which reads as "git is not installed".
    if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) {
      throw invalidInput(`${dir} is not a folder on this host; create it, or point the project at its checkout (\`supervisor project update <project> --directory /path\`)`, { dir });
    }
    let top: string;
    try {
      top = await realpath((await exec('git', ['rev-parse', '--show-toplevel'], { cwd: dir, env: gitEnv() })).stdout.trim());
    } catch (err) {
      throw invalidInput(`${dir} is not inside a git repository (${firstLine(err)}); run \`git init\` there first`, { dir });
    }
    if ((await realpath(dir)) !== top) {
      throw invalidInput(
        `${dir} is not the top folder of its git repository but inside ${top}, so a loop would work on all of ${top}; ` +
          `make the project's directory the repository's root (${top}), or run \`git init\` in ${dir} to give it a repository of its own`,
        { dir, root: top },
      );
    }
    return new Git(top, author);
  }

  /**
   * Runs git in the repository and returns its stdout. A failure (any non-zero exit) throws
   * `unavailable`, or what `refusal` makes of git's reason when the failure is the repository's state.
   */
  private async git(args: string[], refusal?: (reason: string) => SupervisorError): Promise<string> {
    const identity = this.author ? ['-c', `user.name=${this.author.name}`, '-c', `user.email=${this.author.email}`] : [];
    try {
      const { stdout } = await exec('git', [...identity, ...args], { cwd: this.root, env: gitEnv(), timeout: TIMEOUT_MS, maxBuffer: MAX_BUFFER });
      return stdout;
    } catch (err) {
      throw refusal?.(firstLine(err)) ?? new SupervisorError('unavailable', `git ${args[0]} failed in ${this.root}: ${firstLine(err)}`, { dir: this.root, args });
    }
  }

  /** Every change in the working tree and index, untracked files listed one by one. */
  async changes(): Promise<FileChange[]> {
    const out = await this.git(['status', '--porcelain=v1', '-z', '--untracked-files=all']);
    const fields = out.split('\0');
    const changes: FileChange[] = [];
    for (let i = 0; i < fields.length; i++) {
      const entry = fields[i] ?? '';
      if (entry.length < 4) continue;
      const [x, y] = [entry[0], entry[1]];
      const change: FileChange = { path: entry.slice(3), staged: x !== ' ' && x !== '?', unstaged: y !== ' ', untracked: x === '?' };
      // -z puts a rename's old path in the next field.
      if (x === 'R' || x === 'C') change.from = fields[++i];
      changes.push(change);
    }
    return changes;
  }

  /** False in a repository whose branch has no commit yet (git init, nothing committed). */
  async hasCommits(): Promise<boolean> {
    try {
      await this.git(['rev-parse', '--verify', '--quiet', 'HEAD']);
      return true;
    } catch {
      return false;
    }
  }

  /** The checked-out branch; undefined on a detached HEAD. */
  async currentBranch(): Promise<string | undefined> {
    const name = (await this.git(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
    return name === 'HEAD' ? undefined : name;
  }

  async branchExists(name: string): Promise<boolean> {
    try {
      await this.git(['rev-parse', '--verify', '--quiet', `refs/heads/${name}`]);
      return true;
    } catch {
      return false;
    }
  }

  /** The commit a ref points at. */
  async sha(ref = 'HEAD'): Promise<string> {
    return (await this.git(['rev-parse', '--verify', `${ref}^{commit}`])).trim();
  }

  /** `base`, or `base-2`, `base-3`, … when a branch of that name exists. */
  async freeBranchName(base: string): Promise<string> {
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}-${n}`;
      if (!(await this.branchExists(name))) return name;
    }
  }

  /** Creates `name` from `from` and checks it out, noting `from` as its base (baseOf). */
  async createBranch(name: string, from: string): Promise<void> {
    await this.switch(['--create', name, from], name);
    await this.git(['config', `branch.${name}.${BASE_KEY}`, from]);
  }

  /** The branch a loop's branch was made from (createBranch); undefined for any other branch. */
  async baseOf(name: string): Promise<string | undefined> {
    try {
      return (await this.git(['config', '--get', `branch.${name}.${BASE_KEY}`])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  async switchTo(name: string): Promise<void> {
    await this.switch([name], name);
  }

  /**
   * `git switch`, whose refusals are the repository's state, not an outage: the branch exists
   * already, is checked out in another worktree, is gone, or local changes are in the way.
   */
  private async switch(args: string[], branch: string): Promise<void> {
    await this.git(['switch', '--quiet', ...args], (reason) => {
      const worktree = /already (?:checked out|used by worktree) at '([^']+)'/.exec(reason)?.[1];
      const advice = worktree
        ? `a loop works on its branch in ${this.root} itself: in ${worktree}, switch to another branch (git -C ${worktree} switch --detach) or remove that worktree (git worktree remove ${worktree})`
        : /already exists/.test(reason)
          ? `rename the branch there is (git branch -m ${branch} ${branch}-old), or delete it (git branch -D ${branch}) if it is not needed`
          : `check out ${branch} by hand in ${this.root} to see what stops it`;
      return conflict(`cannot check out branch ${branch} in ${this.root}: ${reason}; ${advice}`, { dir: this.root, branch, ...(worktree ? { worktree } : {}) });
    });
  }

  /** Stages exactly these paths (additions, edits and deletions); refuses any outside the repository. */
  async stage(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    // Literal: a file named `*.txt` or `:(glob)x` is that file, not a pattern.
    await this.git(['--literal-pathspecs', 'add', '--', ...paths.map((p) => this.inside(p))]);
  }

  /**
   * Commits exactly these paths, as they are in the working tree (each must be tracked or staged:
   * stage new files first); returns the new commit's sha. Anything else in the index (a person's
   * `git add`, what an agent staged before its commit was undone) is left staged, not committed.
   */
  async commit(message: string, paths: string[]): Promise<string> {
    await this.git(['--literal-pathspecs', 'commit', '--quiet', '--only', '--message', message, '--', ...paths.map((p) => this.inside(p))]);
    return this.sha();
  }

  /** Moves the branch back to `sha` keeping every change in the tree and index (undoes commits, not work). */
  async uncommitTo(sha: string): Promise<void> {
    await this.git(['reset', '--quiet', '--soft', sha]);
  }

  /** Commits on HEAD that `base` does not have, oldest first. */
  async commitsSince(base: string): Promise<Commit[]> {
    return parseLog(await this.git(['log', '--reverse', '--format=%H%x09%s', `${base}..HEAD`]));
  }

  /** The last `count` commits on HEAD, newest first. */
  async recentCommits(count: number): Promise<Commit[]> {
    return parseLog(await this.git(['log', `--max-count=${count}`, '--format=%H%x09%s']));
  }

  /** Files that differ between `base` and HEAD. */
  async filesChangedSince(base: string): Promise<string[]> {
    return splitZ(await this.git(['diff', '--name-only', '-z', `${base}...HEAD`]));
  }

  /** Every tracked file, sorted. */
  async trackedFiles(): Promise<string[]> {
    return splitZ(await this.git(['ls-files', '-z'])).sort();
  }

  /** `path` relative to the root, refusing anything that leaves it or reaches into .git. */
  private inside(path: string): string {
    const full = resolve(this.root, path);
    const rel = relative(this.root, full);
    const first = rel.split(sep)[0];
    if (rel === '' || isAbsolute(rel) || first === '..' || first === '.git') {
      throw invalidInput(`${path} is outside the repository ${this.root}; only files inside it can be committed`, { path, dir: this.root });
    }
    return rel;
  }
}

/** Non-interactive and untranslated, so output can be parsed and nothing waits for a person. */
function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', GIT_EDITOR: 'true', GIT_PAGER: 'cat' };
}

function parseLog(out: string): Commit[] {
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf('\t');
      return { sha: line.slice(0, tab), subject: line.slice(tab + 1) };
    });
}

function splitZ(out: string): string[] {
  return out.split('\0').filter(Boolean);
}

function firstLine(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const text = (e.stderr?.trim() || e.message || String(err)).split('\n')[0] ?? '';
  return text.replace(/^fatal: /, '');
}
