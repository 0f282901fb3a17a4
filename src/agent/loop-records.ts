// A PIV loop's bookkeeping beside its work: the loop and each of its phases timed as tasks
// (piv_run, piv_<phase>), and what a finished loop learnt kept as knowledge. A failure here is
// logged and the loop goes on: timing and learnings never decide a loop's outcome.
import { randomUUID } from 'node:crypto';
import { SupervisorError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { adminPrincipal } from '../core/principal.js';
import type { KnowledgeService } from '../knowledge/index.js';
import type { Complexity, TaskService } from '../tasks/index.js';
import type { DbPivStore } from './db-store.js';
import { learningOf } from './learnings.js';
import type { PhaseEvent } from './loop.js';
import type { PivState } from './model.js';

/** The principal a loop records its tasks and knowledge as. */
export const SYSTEM = adminPrincipal('system:piv');

type TaskEnd = 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface LoopRecordsDeps {
  tasks: Pick<TaskService, 'start' | 'complete' | 'fail' | 'cancel' | 'interrupt' | 'interruptRunning'>;
  knowledge: Pick<KnowledgeService, 'add'>;
  store: DbPivStore;
  log: Logger;
}

/**
 * A task's end recorded again is no failure: a loop resumed after its daemon died between
 * recording its end and saving its final state ends its task a second time, and the first
 * outcome stands.
 */
function finishedOnce(finishing: Promise<unknown>): Promise<unknown> {
  return finishing.catch((err: unknown) => {
    if (err instanceof SupervisorError && err.code === 'conflict' && err.details.status !== undefined) return undefined;
    throw err;
  });
}

export class LoopRecords {
  /** Phase task ids by loop, between a phase's start and finish. */
  private readonly phaseTasks = new Map<string, string>();

  constructor(private readonly deps: LoopRecordsDeps) {}

  /** The loop's own task, from when it is queued. */
  begun(id: string, project: string, feature: string, complexity: Complexity | undefined): Promise<void> {
    return this.record(() => this.deps.tasks.start(SYSTEM, { id: `piv:${id}`, type: 'piv_run', project, description: feature, complexity }));
  }

  /**
   * A phase began or ended: its task starts, or ends as the phase's timing says; `cutOffBy` says
   * what stopped one that ends interrupted.
   */
  async phase(project: string, event: PhaseEvent, cutOffBy = "the daemon's shutdown stopped this phase"): Promise<void> {
    if (event.event === 'started') {
      const id = `piv:${event.loopId}:${event.phase}:${event.attempt}:${randomUUID().slice(0, 8)}`;
      this.phaseTasks.set(event.loopId, id);
      const loop = await this.deps.store.load(event.loopId);
      await this.record(() => this.deps.tasks.start(SYSTEM, { id, type: `piv_${event.phase}`, project, description: loop?.feature ?? '' }));
      return;
    }
    const id = this.phaseTasks.get(event.loopId);
    this.phaseTasks.delete(event.loopId);
    if (id === undefined) return;
    // The task ends as the phase's timing says: `interrupted` when this daemon cut it off (its shutdown: it resumes at the next start).
    const outcome = event.timing?.outcome ?? 'failed';
    const status = outcome === 'ok' ? 'succeeded' : outcome;
    await this.record(() => this.endTask(id, status, status === 'interrupted' ? `interrupted: ${cutOffBy}` : outcome));
  }

  /** A loop run here finished: its task ends as it did, and what it learnt is kept (a cancelled loop's is not). */
  async finished(project: string, state: PivState): Promise<void> {
    const status = state.status === 'succeeded' || state.status === 'cancelled' ? state.status : 'failed';
    await this.record(() => finishedOnce(this.endTask(`piv:${state.id}`, status, state.failure?.message ?? state.status)));
    if (state.status !== 'cancelled') await this.record(() => this.storeLearning(project, state));
  }

  /** A loop ended without running here (queued, interrupted, or its daemon gone). */
  endedUnrun(id: string, status: 'cancelled' | 'failed', message: string): Promise<void> {
    return this.record(() => this.endTask(`piv:${id}`, status, message));
  }

  /** A daemon start found the loop cut off by the stop of the daemon that ran it: the phase under way is interrupted. */
  cutOff(id: string): Promise<void> {
    return this.record(() => this.deps.tasks.interruptRunning(`piv:${id}:`, 'interrupted: the daemon stopped during this phase'));
  }

  private async storeLearning(project: string, state: PivState): Promise<void> {
    const validations = new Map<number, string>();
    for (let attempt = 1; attempt <= state.attempts; attempt++) {
      const text = await this.deps.store.getArtifact(state.id, `validation-${attempt}`);
      if (text !== undefined) validations.set(attempt, text);
    }
    await this.deps.knowledge.add(SYSTEM, { project, ...learningOf(state, validations), source: 'piv', key: `piv:${state.id}` });
  }

  /** A loop's or a phase's task ends as the loop did: a cancel or an interruption is neither a success nor a failure in the stats. */
  private endTask(id: string, status: TaskEnd, message: string): Promise<unknown> {
    if (status === 'succeeded') return this.deps.tasks.complete(SYSTEM, id);
    if (status === 'interrupted') return this.deps.tasks.interrupt(SYSTEM, id, message);
    return status === 'cancelled' ? this.deps.tasks.cancel(SYSTEM, id, message) : this.deps.tasks.fail(SYSTEM, id, message);
  }

  private async record(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.deps.log.warn({ err }, 'could not record PIV task timing or learnings');
    }
  }
}
