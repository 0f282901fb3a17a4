// The PIV loop engine: begin (refuse a dirty tree, name feature/<slug>), then, when the loop first
// runs, create that branch from the base branch (the tree still clean), and run the phases prime → plan → implement → validate (→ implement again with the failure,
// up to maxRetries) → commit. After every phase the state is saved, so `run(id)` resumes a loop
// from the phase after the last one that finished; a phase that was cut off runs again whole.
import { randomUUID } from 'node:crypto';
import { SupervisorError, conflict, invalidInput } from '../core/errors.js';
import { systemClock, type Clock } from '../core/clock.js';
import { Git, featureSlug, type GitAuthor } from './git.js';
import { DEFAULT_SETTINGS, type LoopFailure, type Phase, type PhaseTiming, type PivResult, type PivSettings, type PivState } from './model.js';
import { PHASES, agentChanges, type Outcome, type PhaseDeps } from './phases.js';
import { CheckoutRefused, assertReadyToBegin, assertOwnTree, cleanUpCommands, ownTreeNow } from './tree.js';
import { detectValidationCommands } from './validate.js';

/** The phases whose work is uncommitted changes in the tree (see PivState.inPhase). */
const WRITES_TREE: readonly Phase[] = ['implement', 'validate'];

/** The abort reason of a loop stopped by the daemon's shutdown (a person's cancel gives none). */
export const SHUTDOWN = 'shutdown';

/** Stopped by the daemon's shutdown, not by a person: the loop resumes at the next start. */
const byShutdown = (signal: AbortSignal | undefined): boolean => signal?.reason === SHUTDOWN;

export interface PhaseEvent {
  loopId: string;
  phase: Phase;
  attempt: number;
  event: 'started' | 'finished';
  at: Date;
  /** On `finished`. */
  timing?: PhaseTiming;
}

export interface PivLoopDeps extends Omit<PhaseDeps, 'clock'> {
  clock?: Clock;
  /** Told when each phase starts and finishes (task timing records them). Errors are logged, not thrown. */
  onPhase?: (event: PhaseEvent) => void | Promise<void>;
  /**
   * Saves the loop's final state instead of the store's plain save: the caller records what it
   * keeps about the loop (task timing, the learning) first, so it is there by the time anyone
   * reads the loop as finished; and a stop by the daemon's shutdown, which is not the loop's end,
   * it puts back in the queue in the same write.
   */
  saveEnd?: (state: PivState) => Promise<void>;
  /** The identity of the loop's commits; default the repository's own git configuration. */
  author?: GitAuthor;
  /** What to do once a refused checkout is clean again, for a loop that runs (or resumes) later; default: run it again. */
  whenClean?: (loopId: string) => string;
  newId?: () => string;
}

export interface StartPivInput {
  repoDir: string;
  feature: string;
  /** From the call or the project's settings; detected from the repository when absent. */
  validationCommands?: string[];
  /** Default: the branch checked out now. */
  baseBranch?: string;
  settings?: Partial<Omit<PivSettings, 'validationCommands'>>;
}

export class PivLoop {
  private readonly clock: Clock;
  /** Repositories with a loop in this process: one at a time each, they share a working tree. */
  private readonly busy = new Set<string>();

  constructor(private readonly deps: PivLoopDeps) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Begins a loop and runs it to the end. */
  async start(input: StartPivInput, signal?: AbortSignal): Promise<PivResult> {
    const git = await Git.open(input.repoDir, this.deps.author);
    return this.exclusive(git, async () => this.drive(git, await this.create(git, input), signal));
  }

  /** Checks the repository, names the feature branch and saves the new loop, without running it or touching the checkout. */
  async begin(input: StartPivInput): Promise<PivState> {
    const git = await Git.open(input.repoDir, this.deps.author);
    return this.exclusive(git, () => this.create(git, input));
  }

  /** Runs a saved loop from where it stopped; a finished loop just returns its result. */
  async run(id: string, signal?: AbortSignal): Promise<PivResult> {
    const state = await this.deps.store.load(id);
    if (!state) throw invalidInput(`there is no PIV loop ${id}`, { id });
    const git = await Git.open(state.repoDir, this.deps.author);
    return this.exclusive(git, () => this.drive(git, state, signal));
  }

  private async exclusive<T>(git: Git, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(git.root)) {
      throw conflict(`a PIV loop is already running in ${git.root}; wait for it to finish or cancel it`, { dir: git.root });
    }
    this.busy.add(git.root);
    try {
      return await fn();
    } finally {
      this.busy.delete(git.root);
    }
  }

  private async create(git: Git, input: StartPivInput): Promise<PivState> {
    const feature = input.feature.trim();
    if (feature === '') throw invalidInput('describe the feature to build; the description is empty');
    await assertReadyToBegin(git);
    const baseBranch = await this.baseBranch(git, input.baseBranch);
    const validationCommands = input.validationCommands ?? (await detectValidationCommands(git.root));
    if (validationCommands.length === 0) {
      throw invalidInput(
        `no validation commands for ${git.root}: none were given and package.json, Makefile and pyproject.toml suggest none; ` +
          'pass the commands that tell working code from broken code (build, lint, tests)',
        { dir: git.root },
      );
    }
    const baseSha = await git.sha(baseBranch);
    const branch = await git.freeBranchName(`feature/${featureSlug(feature)}`);
    const state: PivState = {
      id: (this.deps.newId ?? randomUUID)(),
      repoDir: git.root,
      feature,
      baseBranch,
      baseSha,
      branch,
      branchPending: true,
      settings: { ...DEFAULT_SETTINGS, ...definedOnly(input.settings ?? {}), validationCommands },
      status: 'running',
      next: 'prime',
      attempts: 0,
      validationOutputs: [],
      timings: [],
      turns: 0,
      costUsd: 0,
      commits: [],
      filesChanged: [],
      startedAt: this.clock.now().toISOString(),
    };
    await this.deps.store.save(state);
    await this.log(state, 'prime', `the loop will work on branch ${branch}, created from ${baseBranch} when it starts`);
    return state;
  }

  /**
   * The branch asked for, else the one checked out, unless that is an earlier loop's branch (left
   * checked out when it finished, and not merged yet): then that loop's base, so features do not
   * stack on each other unasked.
   */
  private async baseBranch(git: Git, asked: string | undefined): Promise<string> {
    const current = asked === undefined ? await git.currentBranch() : undefined;
    const earlierBase = current === undefined ? undefined : await git.baseOf(current);
    const base = asked ?? (earlierBase !== undefined && (await git.branchExists(earlierBase)) ? earlierBase : current);
    if (base === undefined) {
      throw invalidInput(`HEAD is detached in ${git.root}; check out the branch the feature should start from, or name it as the base branch`, {
        dir: git.root,
      });
    }
    if (!(await git.branchExists(base))) throw invalidInput(`there is no branch ${base} in ${git.root} to start the feature from`, { dir: git.root, base });
    return base;
  }

  private async drive(git: Git, saved: PivState, signal: AbortSignal | undefined): Promise<PivResult> {
    let state = saved;
    if (state.status !== 'running') return this.result(state);
    state = await this.takeCheckout(git, state);
    // The tree may have changed while no loop was watching it: validate again before committing.
    if (state.next === 'commit') state = { ...state, next: 'validate' };
    while (state.next !== 'done') {
      const phase = state.next;
      if (WRITES_TREE.includes(phase)) {
        state = { ...state, inPhase: phase };
        await this.deps.store.save(state);
      }
      state = await this.step(git, state, phase, signal);
      if (state.next === 'done') {
        await (this.deps.saveEnd ?? ((s) => this.deps.store.save(s)))(state);
      } else {
        state = await ownTreeNow(git, state);
        await this.deps.store.save(state);
      }
    }
    return this.result(state);
  }

  /**
   * Readies the checkout for the loop's work, refusing (CheckoutRefused) someone else's
   * uncommitted changes: a loop's first run creates its branch from a clean tree; a loop that goes
   * on finds only what it left, and its branch checked out (again).
   */
  private async takeCheckout(git: Git, state: PivState): Promise<PivState> {
    const then = this.deps.whenClean?.(state.id) ?? 'then run the loop again';
    await assertOwnTree(git, state, then);
    if (!state.branchPending) {
      if ((await git.currentBranch()) !== state.branch) await refusedWith(then, git.switchTo(state.branch));
      return state;
    }
    if (!(await git.branchExists(state.baseBranch))) {
      throw conflict(`branch ${state.baseBranch}, which PIV loop ${state.id} was to start from, is gone from ${git.root}; start the loop again from another branch`, { dir: git.root, base: state.baseBranch });
    }
    // Created now from where the base is now: work committed on it while the loop was queued is in.
    const baseSha = await git.sha(state.baseBranch);
    await refusedWith(then, git.createBranch(state.branch, state.baseBranch));
    const begun: PivState = { ...state, baseSha, branchPending: undefined, tree: {} };
    await this.deps.store.save(begun);
    await this.log(begun, 'prime', `branch ${state.branch} created from ${state.baseBranch} at ${baseSha.slice(0, 10)}`);
    return begun;
  }

  private async step(git: Git, state: PivState, phase: Phase, signal: AbortSignal | undefined): Promise<PivState> {
    if (signal?.aborted) return this.stop(git, state, { phase, reason: 'cancelled', message: `the loop was cancelled before ${phase}` }, signal);
    const attempt = phase === 'implement' ? state.attempts + 1 : state.attempts;
    const started = this.clock.now();
    await this.log(state, phase, phase === 'implement' ? `${phase} started (attempt ${attempt})` : `${phase} started`);
    await this.emit({ loopId: state.id, phase, attempt, event: 'started', at: started });

    const outcome = await this.attempt(git, state, phase, signal);
    const finished = this.clock.now();
    const timing: PhaseTiming = {
      phase,
      attempt,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      durationMs: finished.getTime() - started.getTime(),
      // A phase the shutdown cut off was cancelled by no one: interrupted, as its task is.
      outcome: outcome.stop?.reason === 'cancelled' ? (byShutdown(signal) ? 'interrupted' : 'cancelled') : outcome.failed ? 'failed' : 'ok',
    };
    await this.log(state, phase, `${phase} ${timing.outcome === 'ok' ? 'finished' : timing.outcome} after ${timing.durationMs} ms`);
    await this.emit({ loopId: state.id, phase, attempt, event: 'finished', at: finished, timing });

    const next: PivState = { ...state, ...outcome.patch, timings: [...state.timings, timing] };
    return outcome.stop ? this.stop(git, next, { phase, ...outcome.stop }, signal) : next;
  }

  /** Runs the phase; anything it throws (git, the file system) ends the loop as failed, with the reason (as cancelled once it is). */
  private async attempt(git: Git, state: PivState, phase: Phase, signal: AbortSignal | undefined): Promise<Outcome> {
    try {
      return await PHASES[phase]({ ...this.deps, clock: this.clock, git, state, signal, log: (m) => this.log(state, phase, m) });
    } catch (err) {
      // Once the loop is cancelled, what fails next fails because of it (its agent killed, its
      // project removed): the loop was cancelled, and a failure recorded now would replace that.
      if (signal?.aborted) return { patch: {}, stop: { reason: 'cancelled', message: `${phase}: the loop was cancelled (${(err as Error).message})` } };
      return { patch: {}, failed: true, stop: { reason: 'error', message: `${phase}: ${(err as Error).message}` } };
    }
  }

  /** Ends the loop; the agent's uncommitted changes stay in the tree for a person to look at. */
  private async stop(git: Git, state: PivState, failure: LoopFailure, signal: AbortSignal | undefined): Promise<PivState> {
    // Stopped by the daemon's shutdown, the loop is not over: it resumes at this phase at the next start.
    const shutdown = failure.reason === 'cancelled' && byShutdown(signal);
    const what = failure.reason !== 'cancelled' ? 'failed' : shutdown ? `stopped by the daemon's shutdown` : 'cancelled';
    await this.log(state, failure.phase, `loop ${what}: ${failure.message}`);
    // When git itself is what failed, the list stays empty rather than replacing that failure with another.
    const left = await agentChanges({ git, state }).catch(() => []);
    if (left.length > 0) {
      const files = left.slice(0, 10).map((c) => c.path).join(', ') + (left.length > 10 ? `, … (${left.length} files)` : '');
      const { discard, keep } = cleanUpCommands(left);
      // A loop the shutdown stopped goes on over them: advice to discard them would lose its work.
      const then = shutdown
        ? 'the loop goes on with them when it resumes; leave them as they are (a change made meanwhile is refused at the resume)'
        : `before another loop starts in this repository, discard them (${discard}) or commit them (${keep})`;
      await this.log(state, failure.phase, `left uncommitted on ${state.branch}: ${files}; ${then}`);
    }
    return {
      ...state,
      status: failure.reason === 'cancelled' ? 'cancelled' : 'failed',
      next: 'done',
      failure,
      filesChanged: left.map((c) => c.path),
      finishedAt: this.clock.now().toISOString(),
    };
  }

  private async emit(event: PhaseEvent): Promise<void> {
    try {
      await this.deps.onPhase?.(event);
    } catch (err) {
      await this.deps.store.log(event.loopId, { at: this.clock.now().toISOString(), phase: event.phase, message: `the onPhase hook failed: ${(err as Error).message}` });
    }
  }

  private async log(state: PivState, phase: Phase, message: string): Promise<void> {
    await this.deps.store.log(state.id, { at: this.clock.now().toISOString(), phase, message });
  }

  private async result(state: PivState): Promise<PivResult> {
    const plan = await this.deps.store.getArtifact(state.id, 'plan');
    const result: PivResult = {
      id: state.id,
      status: state.status,
      branch: state.branch,
      baseBranch: state.baseBranch,
      commits: state.commits,
      filesChanged: state.filesChanged,
      retries: Math.max(0, state.attempts - 1),
      timings: state.timings,
      turns: state.turns,
      costUsd: state.costUsd,
      startedAt: state.startedAt,
    };
    if (state.failure) result.failure = state.failure;
    if (plan !== undefined) result.plan = plan;
    if (state.validation) result.validation = state.validation;
    if (state.finishedAt) result.finishedAt = state.finishedAt;
    return result;
  }
}

/** A branch git cannot check out (taken, in another worktree) is a checkout a person frees, like a dirty tree. */
async function refusedWith(then: string, switching: Promise<void>): Promise<void> {
  try {
    await switching;
  } catch (err) {
    if (err instanceof SupervisorError && err.code === 'conflict') throw new CheckoutRefused(`${err.message}; ${then}`, err.details);
    throw err;
  }
}

/** Drops keys whose value is undefined, so `{ maxRetries: undefined }` keeps the default instead of erasing it. */
function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
