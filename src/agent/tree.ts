// Whose are the uncommitted changes in a loop's checkout. A loop commits what it finds changed
// there, so before it works in it (its first run, a resume, the run after a restart) everything
// uncommitted must be its own: nothing when it first runs, exactly what it left (recorded after
// every phase as a print of the tree) when it goes on. Anything else is someone's work, refused
// naming the files and the commands that keep, set aside or discard them.
import { createHash } from 'node:crypto';
import { lstat, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SupervisorError, invalidInput } from '../core/errors.js';
import { isSupervisorWritten } from '../instructions/index.js';
import type { FileChange, Git } from './git.js';
import type { PivState } from './model.js';

/** Uncommitted paths and a hash of what each holds now ('-': deleted); the files the supervisor writes left out. */
export type TreePrint = Record<string, string>;

/** A loop refused the checkout: someone else's changes are in it. Fixed by a person, not by waiting. */
export class CheckoutRefused extends SupervisorError {
  constructor(message: string, details: Record<string, unknown>) {
    super('conflict', message, details);
  }
}

/** Changes in the tree that are not the supervisor's own files. */
export async function changesToCheck(git: Git): Promise<FileChange[]> {
  return (await git.changes()).filter((ch) => !isSupervisorWritten(ch.path));
}

async function treePrint(git: Git): Promise<TreePrint> {
  const print: TreePrint = {};
  for (const change of await changesToCheck(git)) print[change.path] = await contentHash(git.root, change.path);
  return print;
}

/** The loop's state with the tree as it is now recorded as the loop's own (after a phase, or what a cut-off phase left). */
export async function ownTreeNow<S extends PivState>(git: Git, state: S): Promise<S> {
  return { ...state, tree: await treePrint(git), inPhase: undefined };
}

/** What a file holds now, as a hash: its bytes, a symlink's target, or '-' when it is gone. */
export async function contentHash(root: string, path: string): Promise<string> {
  const full = join(root, path);
  const info = await lstat(full).catch(() => undefined);
  if (!info) return '-';
  const hash = createHash('sha1');
  if (info.isSymbolicLink()) hash.update(`link:${await readlink(full)}`);
  else if (info.isFile()) hash.update(await readFile(full));
  else hash.update('dir');
  return hash.digest('hex');
}

/**
 * Refuses a tree with any uncommitted change (the supervisor's own files aside): a loop about to
 * start would take it for its agent's work. `then` says what to do once the tree is clean.
 */
/** What a loop needs of its checkout before it begins: a commit to branch from, and no uncommitted changes. */
export async function assertReadyToBegin(git: Git): Promise<void> {
  if (!(await git.hasCommits())) throw invalidInput(`${git.root} has no commits yet; commit what is there first, so the feature branch has a base`, { dir: git.root });
  await assertClean(git, 'then start the loop again');
}

export async function assertClean(git: Git, then: string): Promise<void> {
  const changes = await changesToCheck(git);
  if (changes.length > 0) throw await refusal(git, changes, 'has uncommitted changes', then);
}

/**
 * Refuses a tree with changes the loop did not leave as they are (before it goes on after a
 * stop): a file changed since, or new. A loop cut off in the middle of a phase that writes
 * (inPhase) takes the tree as it is: what that phase did is not recorded (the daemon's next start
 * prints it, see PivService.printCutOffTree, so this is left for when it could not). A loop saved before
 * prints were kept (no `tree`) only checks what the old versions did: a clean tree when its
 * branch is not checked out.
 */
export async function assertOwnTree(git: Git, state: PivState, then: string): Promise<void> {
  if (state.branchPending) return assertClean(git, then);
  // Cut off mid-phase: the agent's half-done edits or a validation's output are in the tree, unrecorded.
  if (state.inPhase !== undefined) return;
  const changes = await changesToCheck(git);
  let foreign: FileChange[];
  if (state.tree === undefined) {
    foreign = (await git.currentBranch()) === state.branch ? [] : changes;
  } else {
    const left = state.tree;
    foreign = [];
    for (const change of changes) if (left[change.path] !== (await contentHash(git.root, change.path))) foreign.push(change);
    // A change the loop left that is no longer there (deleted, restored): it would validate and commit
    // without it. Unless the loop committed it already and was stopped before saving so; a
    // validation's output (never committed) may go.
    const now = new Set(changes.map((c) => c.path));
    const undone = Object.keys(left).filter((path) => !now.has(path) && !(state.validationOutputs ?? []).includes(path));
    if (foreign.length === 0 && undone.length > 0 && (await git.commitsSince(state.baseSha)).length === 0) {
      throw new CheckoutRefused(
        `in ${git.root}, what PIV loop ${state.id} left uncommitted was undone since it stopped (${undone.slice(0, LISTED).join(', ')}${undone.length > LISTED ? ', …' : ''}): ` +
          `going on would validate and commit the loop's work without it. Put the files back as the loop left them, or cancel the loop (cancel_piv) and start a new one`,
        { dir: git.root, files: undone },
      );
    }
  }
  if (foreign.length > 0) throw await refusal(git, foreign, `has uncommitted changes that PIV loop ${state.id} did not make`, then, true);
}

const LISTED = 20;
/** Beyond this many files the commands take the whole tree rather than a list no one reads. */
const NAMED_IN_COMMANDS = 10;

/** `notTheLoops`: changes the resuming loop did not make, which no advice may take for an earlier loop's leftovers. */
async function refusal(git: Git, changes: FileChange[], what: string, then: string, notTheLoops = false): Promise<CheckoutRefused> {
  const paths = changes.map((c) => c.path);
  const shown = paths.slice(0, LISTED).join(', ') + (paths.length > LISTED ? `, … (${paths.length} in all)` : '');
  const branch = await git.currentBranch();
  const earlierLoop = !notTheLoops && branch !== undefined && (await git.baseOf(branch)) !== undefined;
  const { keep, stash, discard } = cleanUpCommands(changes);
  const on = branch === undefined ? '' : ` on ${branch}`;
  // A loop that failed or was cancelled leaves its agent's work on its branch: usually to be thrown away, not kept; but it may be a person's.
  const advice = earlierLoop
    ? `they are on ${branch}, the branch of an earlier PIV loop: its agent's changes left when it failed or was cancelled, its validation's output, or your own work. ` +
      `In ${git.root}, discard them (${discard}), set them aside (${stash}; git stash pop brings them back) or commit them${on} (${keep})`
    : `a loop would commit them as its own. In ${git.root}, commit them${on} (${keep}), set them aside (${stash}; git stash pop brings them back) or discard them (${discard})`;
  return new CheckoutRefused(`${git.root} ${what} (${shown}); ${advice}; ${then}`, { dir: git.root, files: paths });
}

/** The commands for exactly these files (or the whole tree, when there are many). */
export function cleanUpCommands(changes: FileChange[]): { keep: string; stash: string; discard: string } {
  if (changes.length > NAMED_IN_COMMANDS) {
    return {
      keep: 'git add --all && git commit -m "…"',
      stash: 'git stash push --include-untracked',
      discard: 'git restore --source=HEAD --staged --worktree . && git clean -fd',
    };
  }
  const list = (cs: FileChange[]) => cs.flatMap((c) => (c.from === undefined ? [c.path] : [c.from, c.path])).map(shellQuote).join(' ');
  const known = changes.filter((c) => !c.untracked);
  const untracked = changes.filter((c) => c.untracked);
  const discard = [
    ...(known.length > 0 ? [`git restore --source=HEAD --staged --worktree -- ${list(known)}`] : []),
    ...(untracked.length > 0 ? [`git clean -f -- ${list(untracked)}`] : []),
  ].join(' && ');
  return {
    keep: `git add -- ${list(changes)} && git commit -m "…"`,
    stash: `git stash push --include-untracked -- ${list(changes)}`,
    discard,
  };
}

/** A path as a POSIX shell word: as it is when that is safe, else in single quotes. */
function shellQuote(path: string): string {
  return /^[\w./@%+=:,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
