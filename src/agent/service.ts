// The agent domain's service: PIV loops started by operations, run in the background up to a
// concurrency limit (one per project, the rest queued), watched through get_piv_status, cancelled
// by killing the agent's process group, and never left "running" by a restart: a daemon that
// starts resumes (or marks interrupted) what a stopped or crashed daemon left.
import { randomUUID } from 'node:crypto';
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db, Listening } from '../core/db.js';
import { SupervisorError, conflict, invalidInput, notFound } from '../core/errors.js';
import { logListenState } from '../core/listen-log.js';
import type { Logger } from '../core/log.js';
import { assertOwnProject, type Principal } from '../core/principal.js';
import { processStart } from '../core/process-info.js';
import type { Presence } from '../core/presence.js';
import type { Page } from '../core/page.js';
import type { OwnedItems, ProjectData } from '../core/project-data.js';
import type { KnowledgeService } from '../knowledge/index.js';
import type { ProjectLookup } from '../projects/index.js';
import type { Complexity, TaskService } from '../tasks/index.js';
import { ClaudeCodeRunner, type AgentRunner, type PermissionMode } from './agent.js';
import { DbPivStore, LoopTakenOver } from './db-store.js';
import { Git } from './git.js';
import { LoopRecords, SYSTEM } from './loop-records.js';
import { killLeftGroups } from './process-group.js';
import { PivLoop, SHUTDOWN } from './loop.js';
import type { PivState } from './model.js';
import { Runs, mayUseRun, type RunRow, type RunStatus } from './runs.js';
import { CheckoutRefused, assertOwnTree, assertReadyToBegin, ownTreeNow } from './tree.js';
import { runView, type RunView } from './view.js';

export interface AgentSettings {
  agentCommand: string;
  agentMaxTurns?: number;
  agentMaxBudgetUsd?: number;
  agentPermissionMode: PermissionMode;
  agentFirstOutputTimeoutMs: number;
  agentIdleTimeoutMs: number;
  pivValidationTimeoutMs: number;
  pivMaxRetries: number;
  pivConcurrency: number;
  pivResumeOnStart: boolean;
}

export interface AgentServiceDeps {
  db: Db;
  clock: Clock;
  log: Logger;
  audit: AuditLog;
  settings: AgentSettings;
  projects: ProjectLookup;
  tasks: Pick<TaskService, 'start' | 'complete' | 'fail' | 'cancel' | 'interrupt' | 'interruptRunning'>;
  knowledge: Pick<KnowledgeService, 'add' | 'search'>;
  /** Another agent runner (tests); default Claude Code at settings.agentCommand. */
  agent?: AgentRunner;
  /** False in a CLI process without a daemon: loops are neither started nor resumed there. */
  longRunning: boolean;
  /** Who runs a loop, and whether it still does. */
  presence: Presence;
}

export interface StartPivRequest {
  project: string;
  feature: string;
  validationCommands?: string[];
  baseBranch?: string;
  maxRetries?: number;
  complexity?: Complexity;
  /** Wait up to this long for the loop to finish before answering (0: answer at once). */
  waitSeconds?: number;
}

export interface StatusOptions {
  artifact?: string;
  /** How many of the last progress log entries to answer (default 10). */
  progressEntries?: number;
  /** Wait up to this long for the loop to end before answering (0: answer at once). */
  waitSeconds?: number;
}

interface ActiveRun {
  controller: AbortController;
  /**
   * Why it was stopped: a person's cancel, the daemon shutting down (the loop resumes later), or
   * another daemon having taken the loop over (it goes on there, and nothing of its end is written here).
   */
  stoppedBy?: 'cancel' | 'shutdown' | 'takenOver';
  lines: string[];
  done: Promise<void>;
}

/** Stops a loop this daemon runs as cancelled: its agent's process group is killed, and it ends `cancelled`. */
function cancelRun(run: ActiveRun): void {
  run.stoppedBy = 'cancel';
  run.controller.abort();
}

/** A loop that ended cancelled because the daemon was stopping: not finished, it resumes at the next start. */
const stoppedForShutdown = (status: string, run: ActiveRun | undefined): boolean => status === 'cancelled' && run?.stoppedBy === 'shutdown';
/** A loop stopped here without being finished: at the daemon's shutdown, or because another daemon took it over. */
const notEndedHere = (status: string, run: ActiveRun | undefined): boolean => stoppedForShutdown(status, run) || (status === 'cancelled' && run?.stoppedBy === 'takenOver');

const LAST_LINES = 20;
const KNOWLEDGE_PRIMED = 5;
const FINISHED: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
/** A loop that goes on by itself: queued, or running. */
const PENDING: readonly RunStatus[] = ['queued', 'running'];
/** How often a wait for a loop that runs elsewhere (another daemon on the database) looks at it. */
const OTHER_DAEMON_LOOK_MS = 1_000;
/** Where a daemon asks the one running a loop to cancel it (the payload is the loop's id). */
const CANCEL_CHANNEL = 'supervisor_piv_cancel';
/** How long a cancel waits for the daemon that runs the loop to have stopped it. */
const CANCEL_ELSEWHERE_MS = 30_000;
/** How often a cancel looks at a loop that keeps moving on under it before it gives up. */
const CANCEL_LOOKS = 3;

/** A loop marked running whose daemon is gone, as callers see it. */
const interrupted = (row: RunRow): RunRow => ({ ...row, status: 'interrupted' });

export class AgentService {
  private readonly runs: Runs;
  private readonly store: DbPivStore;
  /** The store the loops run here save through: only while a loop is still this daemon's. */
  private readonly ownStore: DbPivStore;
  private readonly records: LoopRecords;
  private readonly agent: AgentRunner;
  private readonly active = new Map<string, ActiveRun>();
  private readonly waiters = new Map<string, Array<() => void>>();
  /** Loops start_piv has inserted (marked running, held by this daemon) and not yet queued. */
  private readonly beginning = new Set<string>();
  /**
   * Claims the pump has asked for and not yet launched: a claim commits its loop as running here
   * before the loop is active, and a view reading it in between must not take it for orphaned.
   */
  private claiming = 0;
  private pumping: Promise<void> = Promise.resolve();
  private starting: Promise<unknown> = Promise.resolve();
  private stopping = false;
  /** Cancels asked through other daemons (one listener, however often startup runs). */
  private listening: Promise<Listening> | undefined;

  /** This daemon, as the owner a loop it runs records. */
  private get owner(): string {
    return this.deps.presence.owner;
  }

  constructor(private readonly deps: AgentServiceDeps) {
    this.runs = new Runs(deps.db);
    this.store = new DbPivStore(deps.db, deps.clock);
    this.ownStore = new DbPivStore(deps.db, deps.clock, this.owner);
    this.records = new LoopRecords({ tasks: deps.tasks, knowledge: deps.knowledge, store: this.store, log: deps.log });
    this.agent = deps.agent ?? new ClaudeCodeRunner({ command: deps.settings.agentCommand });
    deps.presence.onBack(() => void this.stopTakenOver().catch((err: unknown) => deps.log.error({ err }, 'could not look for PIV loops taken over by another daemon')));
  }

  /**
   * Checks the project's repository (clean tree, base branch), names the feature branch and
   * queues the loop (the branch is created, the checkout switched, when the loop starts); answers at once with its id (or, with waitSeconds, when it finished or the
   * time ran out). A dirty tree, a missing directory or a loop already active are refused here.
   */
  async start(principal: Principal, req: StartPivRequest): Promise<RunView> {
    this.authorize(principal, req.project);
    this.assertDaemon();
    if (this.stopping) throw conflict('the daemon is stopping; start the loop again once it is back');
    const project = await this.deps.projects.get(req.project);
    if (!project.directory) {
      throw invalidInput(`project ${req.project} has no directory on this host; set it with update_project (\`supervisor project update ${req.project} --directory /path\`)`, { project: req.project });
    }
    const directory = project.directory;
    // Refused before the loop creates its branch and switches the checkout, which a loop failing at its first agent run left behind.
    const unavailable = this.agent.unavailable?.();
    if (unavailable) {
      // Both problems at once: fixing the setting and restarting only to be told about the checkout next costs a round.
      const checkout = await checkoutProblem(directory);
      throw new SupervisorError(
        'not_configured',
        `${unavailable}; set agentCommand to Claude Code's executable (\`supervisor config set agentCommand /path/to/claude\` (set_setting over MCP), then restart the daemon)` +
          `${checkout ? `; the checkout needs attention too: ${checkout}` : ''}; nothing was changed in ${directory}`,
        { setting: 'agentCommand', ...(checkout ? { checkout } : {}) },
      );
    }
    const id = randomUUID();
    const validationCommands = req.validationCommands ?? (await this.projectValidation(req.project));
    // One start at a time in this daemon, so two projects sharing a checkout cannot both begin in it.
    await this.serially(async () => {
      const root = (await Git.open(directory)).root;
      const other = await this.runs.activeIn(root, req.project);
      if (other) throw conflict(`${root} is in use by PIV loop ${other.id} of project ${other.project}; one loop runs in a repository at a time`, { running: other.id });
      this.beginning.add(id);
      try {
        await this.deps.presence.announce();
        await this.runs.insert({ id, project: req.project, feature: req.feature.trim(), createdBy: principal.actor, owner: this.owner, at: this.deps.clock.now() }, this.deps.projects);
        try {
          await this.loopFor(id, req.project).begin({
            repoDir: directory,
            feature: req.feature,
            validationCommands,
            baseBranch: req.baseBranch,
            settings: this.loopSettings(req.maxRetries),
          });
        } catch (err) {
          await this.runs.remove(id);
          throw err;
        }
        // Begun: now any daemon's pump may take it (unless it was cancelled meanwhile).
        await this.runs.setStatus(id, 'queued', this.deps.clock.now(), ['running']);
      } finally {
        this.beginning.delete(id);
      }
    });
    await this.records.begun(id, req.project, req.feature, req.complexity);
    await this.deps.audit.record({ actor: principal.actor, action: 'piv.start', target: req.project, outcome: 'ok', detail: { id } });
    this.pump();
    if (req.waitSeconds) await this.waitFor(id, req.waitSeconds * 1000);
    return this.status(principal, id);
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.starting.then(fn, fn);
    this.starting = next.catch(() => undefined);
    return next;
  }

  /** Where a loop is, or its result; with `artifact`, that kept text whole; with `waitSeconds`, once it ended or the time ran out. */
  async status(principal: Principal, id: string, options: StatusOptions = {}): Promise<RunView> {
    const { artifact, progressEntries = 10, waitSeconds = 0 } = options;
    if (waitSeconds > 0 && PENDING.includes((await this.shown(await this.runs.get(id, undefined, (r) => mayUseRun(principal, r)))).status)) {
      // Only a daemon runs loops: a CLI process without one would wait for nothing to change.
      this.assertDaemon();
      await this.waitFor(id, waitSeconds * 1000);
    }
    const row = await this.runs.get(id, undefined, (r) => mayUseRun(principal, r));
    const plan = await this.store.getArtifact(id, 'plan');
    const lines = this.active.get(id)?.lines ?? (await this.lastAgentLines(id, row.state));
    const artifacts = await this.store.artifactNames(id);
    let asked: { name: string; text: string } | null | undefined;
    if (artifact !== undefined) {
      if (!artifacts.includes(artifact)) throw notFound(`loop ${id} has no artifact ${artifact}; it has ${artifacts.join(', ') || 'none yet'}`, { id, artifact });
      asked = { name: artifact, text: (await this.store.getArtifact(id, artifact)) ?? '' };
    }
    const { row: seen, orphaned } = await this.seen(row);
    const note = this.statusNote(seen, orphaned);
    return runView(seen, { now: this.deps.clock.now(), plan, lines, progress: await this.store.progress(id, progressEntries), artifacts, artifact: asked, ...(note ? { note } : {}) });
  }

  /**
   * The loop as callers see it: one marked running whose daemon is gone (killed, its host down)
   * goes on no more until someone resumes it, or a daemon start does: it is interrupted, and a
   * wait for its end ends (the database keeps `running`, which a daemon start resumes).
   */
  private async shown(row: RunRow, alive?: Set<string>): Promise<RunRow> {
    return (await this.seen(row, alive)).row;
  }

  /** The loop as `shown`, and whether it is shown interrupted because no daemon runs it. */
  private async seen(row: RunRow, alive?: Set<string>, again = true): Promise<{ row: RunRow; orphaned: boolean }> {
    if (row.status !== 'running' || (await this.ownerRuns(row, alive))) return { row, orphaned: false };
    // A loop of this daemon's read just before its run here ended (and left `active`) is not
    // orphaned: its end is saved by now, and it is shown as it ended.
    if (again && row.owner === this.owner) return this.seen(await this.runs.get(row.id), alive, false);
    return { row: interrupted(row), orphaned: true };
  }

  /** Running with its daemon gone (killed), or queued behind others: what `status` alone would hide. */
  private statusNote(row: RunRow, orphaned: boolean): string | undefined {
    if (orphaned) {
      const then = this.deps.longRunning ? 'resume_piv continues it now' : 'a daemon start resumes it (or leaves it interrupted for resume_piv when pivResumeOnStart is off)';
      return `no daemon runs this loop now: the one that ran it stopped without ending it (killed, or its host down); ${then}`;
    }
    if (row.status === 'queued') return `waiting to start: a daemon runs ${this.deps.settings.pivConcurrency} loops at once (pivConcurrency), one per project; it starts when one ends`;
    return undefined;
  }

  async list(principal: Principal, filter: { project?: string; status?: RunStatus; limit: number; cursor?: string }): Promise<Page<RunView>> {
    const project = principal.role === 'admin' ? filter.project : principal.project;
    if (filter.project !== undefined) {
      this.authorize(principal, filter.project);
      // A misspelt project would list nothing, as if it had no loops.
      await this.deps.projects.get(filter.project);
    }
    // Loops are listed as shown: one marked running whose daemon is gone is interrupted (a page may come out short of the limit).
    const asked = filter.status;
    const statuses: RunStatus[] | undefined = asked === 'interrupted' ? ['interrupted', 'running'] : asked && [asked];
    const page = await this.runs.list({ ...filter, statuses, project, withRemoved: principal.role === 'admin' });
    const now = this.deps.clock.now();
    // Each other daemon is asked about once for the page, not once per loop it runs.
    const alive = await this.deps.presence.aliveOf(this.otherOwners(page.items.filter((row) => row.status === 'running')));
    const items = (await Promise.all(page.items.map((row) => this.shown(row, alive)))).filter((row) => asked === undefined || row.status === asked);
    return { items: items.map((row) => runView(row, { now, brief: true })), nextCursor: page.nextCursor };
  }

  /** A project's own validation commands (null clears them: detection again). */
  async configure(principal: Principal, project: string, validationCommands: string[] | null): Promise<{ project: string; validationCommands: string[] | null }> {
    this.authorize(principal, project);
    if (validationCommands?.length === 0) throw invalidInput('give at least one validation command, or null to go back to detecting them', { field: 'validationCommands' });
    await this.deps.db.transaction(async (tx) => {
      await this.deps.projects.hold(project, tx);
      if (validationCommands === null) await tx.query('DELETE FROM piv_projects WHERE project = $1', [project]);
      else {
        await tx.query(
          `INSERT INTO piv_projects (project, validation_commands, updated_by, updated_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (project) DO UPDATE SET validation_commands = EXCLUDED.validation_commands, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
          [project, JSON.stringify(validationCommands), principal.actor, this.deps.clock.now()],
        );
      }
      await this.deps.audit.record({ actor: principal.actor, action: 'piv.configure', target: project, outcome: 'ok', detail: { commands: validationCommands?.length ?? null } }, tx);
    });
    return { project, validationCommands };
  }

  private async projectValidation(project: string): Promise<string[] | undefined> {
    const { rows } = await this.deps.db.query<{ validation_commands: string[] }>('SELECT validation_commands FROM piv_projects WHERE project = $1', [project]);
    return rows[0]?.validation_commands;
  }

  /** Active loops hold their project: removing it (with force) cancels them; finished loops stay as history. */
  projectData(): ProjectData {
    return {
      owned: async (project, q): Promise<OwnedItems> => {
        const { rows } = await q.query<{ id: string; status: string; n: number | string }>(
          `SELECT id, status, count(*) OVER () AS n FROM piv_runs WHERE project = $1 AND status IN ('queued', 'running', 'interrupted') ORDER BY seq LIMIT 5`,
          [project],
        );
        return { what: 'PIV loops', count: Number(rows[0]?.n ?? 0), sample: rows.map((r) => `PIV loop ${r.id} (${r.status})`) };
      },
      release: async (project, tx, actor, afterCommit) => {
        await tx.query('DELETE FROM piv_projects WHERE project = $1', [project]);
        const now = this.deps.clock.now();
        const { rows } = await tx.query<Pick<RunRow, 'id' | 'state' | 'owner' | 'agent_group'>>(
          `UPDATE piv_runs SET status = 'cancelled', updated_at = $2, finished_at = $2 WHERE project = $1 AND status IN ('queued', 'running', 'interrupted') RETURNING id, state, owner, agent_group`,
          [project, now],
        );
        // Kept as history, out of sight of a later project of that name.
        await tx.query('UPDATE piv_runs SET project_removed_at = $2 WHERE project = $1 AND project_removed_at IS NULL', [project, now]);
        const store = new DbPivStore(tx, this.deps.clock);
        const message = `the loop was cancelled: ${actor} removed project ${project}`;
        for (const { id, state, owner, agent_group: group } of rows) {
          // Heard by every daemon once this commits: one that runs the loop stops its agent and saves its end.
          await tx.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, id]);
          // Stopped here only once the removal commits: one that rolls back leaves its loops running.
          if (this.active.has(id)) {
            afterCommit(() => this.stopHere(id));
            continue;
          }
          // An agent its gone daemon left running on this host: no daemon would stop it now (as cancel_piv does).
          if (owner && !(await this.deps.presence.alive(owner))) afterCommit(() => killLeftGroups(id, group, this.deps.log));
          // Ended here as well, so its status says when and why, also when no daemon runs it (queued, interrupted, its daemon gone).
          if (state) await this.saveUnrunEnd(store, state, 'cancelled', message, now);
        }
        return rows.length;
      },
    };
  }

  /** Stops a loop: a queued one never starts; a running one has its agent's process group killed. */
  async cancel(principal: Principal, id: string): Promise<RunView> {
    let row = await this.runs.get(id, undefined, (r) => mayUseRun(principal, r));
    // A loop ended here is ended on the row as read; one that moved on meanwhile (claimed from
    // the queue, here or by another daemon) is looked at again, as it is now.
    for (let look = 1; !(await this.stop(principal, row)); look++) {
      if (look === CANCEL_LOOKS) throw new SupervisorError('unavailable', `PIV loop ${id} kept changing while it was being cancelled; cancel_piv again`, { id });
      row = await this.runs.get(id);
    }
    await this.deps.audit.record({ actor: principal.actor, action: 'piv.cancel', target: row.project, outcome: 'ok', detail: { id } });
    return this.status(principal, id);
  }

  /** Stops a loop as `row` shows it; false when it was to end here and its row had changed meanwhile. */
  private async stop(principal: Principal, read: RunRow): Promise<boolean> {
    let row = read;
    const id = row.id;
    if (FINISHED.includes(row.status)) throw conflict(`PIV loop ${id} is over (${row.status}); nothing to cancel`, { id, status: row.status });
    if (await this.runsElsewhere(row)) {
      // Another daemon on the database runs it (its agent, in its checkout): that one stops it.
      await this.deps.db.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, id]);
      // The wait's last look says whether it still runs there (asked again only when the wait ran
      // out: each look at a daemon that seems gone takes Presence.gone's while).
      let elsewhere = true;
      await this.waitFor(id, CANCEL_ELSEWHERE_MS, async () => (elsewhere = await this.runsElsewhere(await this.runs.get(id))));
      row = await this.runs.get(id);
      if (elsewhere && (await this.runsElsewhere(row))) {
        throw new SupervisorError('unavailable', `PIV loop ${id} runs in another daemon (${row.owner}), which was asked to cancel it and has not stopped it within ${CANCEL_ELSEWHERE_MS / 1000} s; cancel_piv again, or look at get_piv_status`, { id });
      }
      // Stopped there as asked; or that daemon died (or was shutting down) first, and the loop ends below.
    }
    const running = this.active.get(id);
    if (running) {
      cancelRun(running);
      await running.done;
      return true;
    }
    if (FINISHED.includes(row.status)) return true;
    // Queued, interrupted, or left running by a daemon that is gone: it ends here.
    killLeftGroups(row.id, row.agent_group, this.deps.log);
    return this.finishUnrun(row, 'cancelled', `the loop was cancelled by ${principal.actor} before it ${row.status === 'queued' ? 'started' : 'resumed'}`);
  }

  /** Whether another daemon on the database, alive, runs the loop (so only it can stop its agent). */
  private async runsElsewhere(row: RunRow): Promise<boolean> {
    return row.status === 'running' && row.owner !== this.owner && !(await this.ownerGone(row));
  }

  /** Continues an interrupted loop (or one whose daemon is gone) from the phase after the last that finished. */
  async resume(principal: Principal, id: string, waitSeconds = 0): Promise<RunView> {
    const row = await this.runs.get(id, undefined, (r) => mayUseRun(principal, r));
    this.assertDaemon();
    if (this.active.has(id) || row.status === 'queued') return this.status(principal, id);
    if (row.status !== 'interrupted' && !(row.status === 'running' && (await this.ownerGone(row)))) {
      throw conflict(`PIV loop ${id} is ${row.status}; only an interrupted loop can be resumed`, { id, status: row.status });
    }
    // The loop's saved repoDir is already its repository's root: the project's directory says whether that root is the project.
    const { directory } = await this.deps.projects.get(row.project);
    if (directory) await Git.open(directory);
    // The loop would refuse someone else's uncommitted work (and be interrupted again) when it
    // starts; refused here instead, the caller hears it, and the loop stays interrupted until the tree is clean.
    if (row.state && row.state.status === 'running') await assertOwnTree(await Git.open(row.state.repoDir), row.state, `then resume_piv ${id} again`);
    killLeftGroups(row.id, row.agent_group, this.deps.log);
    try {
      await this.runs.setStatus(id, 'queued', this.deps.clock.now(), ['interrupted', 'running']);
    } catch (err) {
      if ((err as { code?: unknown }).code === '23505') throw conflict(`project ${row.project} has another PIV loop queued or running; cancel it or wait before resuming ${id}`);
      throw err;
    }
    await this.store.log(id, { at: this.deps.clock.now().toISOString(), phase: row.state?.next === 'done' || !row.state ? 'prime' : row.state.next, message: `resumed by ${principal.actor}` });
    this.pump();
    if (waitSeconds) await this.waitFor(id, waitSeconds * 1000);
    return this.status(principal, id);
  }

  /**
   * Daemon start: loops a stopped or crashed daemon left queued or running are resumed from
   * their last finished phase (or marked interrupted when resuming at start is off). A loop
   * whose daemon still runs (another daemon on this database) is left to it, queued or running;
   * of daemons starting at once, the first to take a loop over from its gone daemon looks at it.
   */
  async startup(): Promise<void> {
    if (!this.deps.longRunning) return;
    // A cancel made through another daemon on the database, of a loop this one runs.
    const said = logListenState(this.deps.log, CANCEL_CHANNEL, 'a cancel made through another daemon does not reach the loops this one runs');
    this.listening ??= this.deps.db.listen(CANCEL_CHANNEL, {
      message: (id) => this.stopHere(id),
      state: (listening) => {
        said(listening);
        if (listening) void this.stopCancelledMeanwhile();
      },
    });
    await this.listening;
    const left = await this.runs.unfinished();
    const gone = await this.deps.presence.goneOf(this.otherOwners(left));
    for (const row of left) {
      // This process's own loops (begun since it started, or taken over by a start running at the same time) are its business already.
      if (row.owner === this.owner || (row.owner && !gone.has(row.owner))) continue;
      await this.deps.presence.announce();
      if (!(await this.runs.takeOver(row, this.owner))) continue;
      killLeftGroups(row.id, row.agent_group, this.deps.log);
      await this.records.cutOff(row.id);
      if (row.state) await this.printCutOffTree(row.state, row.id);
      const phase = row.state && row.state.next !== 'done' ? row.state.next : 'prime';
      const at = this.deps.clock.now();
      if (this.deps.settings.pivResumeOnStart) {
        await this.runs.setStatus(row.id, 'queued', at);
        await this.store.log(row.id, { at: at.toISOString(), phase, message: `the daemon restarted; the loop resumes at ${phase}` });
      } else {
        await this.runs.setStatus(row.id, 'interrupted', at);
        await this.store.log(row.id, { at: at.toISOString(), phase, message: `the daemon restarted; the loop is interrupted before ${phase} (resume_piv continues it)` });
      }
    }
    this.pump();
  }

  /**
   * A loop cut off in the middle of a phase that writes (inPhase) left that phase's work in its
   * checkout unrecorded, and would take whatever it finds there as its own. Printed once its agent
   * is stopped (at the daemon's shutdown, or at the first start after a crash), that work is the
   * loop's; a change someone makes later, while the loop waits to be resumed, is refused like any
   * other it did not make.
   */
  private async printCutOffTree(state: PivState, id: string): Promise<void> {
    const printed = await this.withCutOffTree(state, id);
    if (printed !== state) await this.store.save(printed);
  }

  /** `state` with the checkout a cut-off phase left printed as the loop's own (printCutOffTree); `state` itself when there is nothing to print, or it cannot be. */
  private async withCutOffTree(state: PivState, id: string): Promise<PivState> {
    if (state.status !== 'running' || state.inPhase === undefined || state.branchPending) return state;
    try {
      return await ownTreeNow(await Git.open(state.repoDir), state);
    } catch (err) {
      this.deps.log.warn({ err, loop: id }, 'could not record what a PIV loop cut off mid-phase left in its checkout; it takes the checkout as it finds it');
      return state;
    }
  }

  /** Daemon stop: running loops are stopped (their agents' process groups killed) and queued to resume at the next start. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    const listening = this.listening;
    this.listening = undefined;
    await (await listening?.catch(() => undefined))?.stop();
    for (const run of this.active.values()) {
      run.stoppedBy ??= 'shutdown';
      run.controller.abort(run.stoppedBy === 'shutdown' ? SHUTDOWN : undefined);
    }
    await Promise.all([...this.active.values()].map((r) => r.done));
    await this.pumping;
  }

  /**
   * This daemon's presence is back after its connection dropped: a loop another daemon took over
   * meanwhile (having taken this one for gone), or ended, is stopped here, its agent killed; what
   * its state says is left to that daemon (the loop's saves are fenced on its owner and status: `owned` in db-store.ts).
   */
  private async stopTakenOver(): Promise<void> {
    for (const [id, run] of this.active) {
      if (run.stoppedBy) continue;
      const row = await this.runs.get(id).catch(() => undefined);
      if (row?.owner === this.owner && row.status === 'running') continue;
      this.deps.log.warn({ loop: id, owner: row?.owner, status: row?.status }, "a PIV loop this daemon ran was taken over or ended elsewhere while this daemon's presence was lost; its agent here is stopped");
      run.stoppedBy = 'takenOver';
      // Cut off, as by a shutdown: the phase is interrupted, not cancelled by anyone.
      run.controller.abort(SHUTDOWN);
    }
  }

  /**
   * Listening again after the connection was lost: a loop running here that was cancelled
   * meanwhile (its project removed with force through another daemon, whose notification this one
   * missed) is stopped now, as the notification would have.
   */
  private async stopCancelledMeanwhile(): Promise<void> {
    const ids = [...this.active.keys()];
    if (ids.length === 0) return;
    try {
      const { rows } = await this.deps.db.query<{ id: string }>(`SELECT id FROM piv_runs WHERE id = ANY($1) AND status = 'cancelled'`, [ids]);
      for (const { id } of rows) this.stopHere(id);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not look for PIV loops cancelled while cancels from other daemons went unheard');
    }
  }

  /** Cancels a loop this daemon runs, as cancel_piv through another daemon asked. */
  private stopHere(id: string): void {
    const run = this.active.get(id);
    // One already stopping (the daemon's shutdown requeues it) is left as it is.
    if (run && !run.stoppedBy) cancelRun(run);
  }

  /** Starts queued loops while there is room; one pump at a time, so the limit holds. */
  private pump(): void {
    this.pumping = this.pumping
      .then(async () => {
        while (!this.stopping && this.active.size < this.deps.settings.pivConcurrency) {
          await this.deps.presence.announce();
          this.claiming += 1;
          let id: string | undefined;
          try {
            id = await this.runs.claim(this.owner, this.deps.clock.now());
            if (id !== undefined) this.launch(id);
          } finally {
            this.claiming -= 1;
          }
          if (id === undefined) return;
        }
      })
      .catch((err: unknown) => this.deps.log.error({ err }, 'could not start queued PIV loops'));
  }

  private launch(id: string): void {
    const run: ActiveRun = { controller: new AbortController(), lines: [], done: Promise.resolve() };
    this.active.set(id, run);
    run.done = (async () => {
      try {
        const row = await this.runs.get(id);
        await this.loopFor(id, row.project, run).run(id, run.controller.signal);
      } catch (err) {
        if (err instanceof LoopTakenOver) {
          this.deps.log.warn({ loop: id }, `${err.message}; it is stopped here`);
          return;
        }
        if (err instanceof CheckoutRefused) {
          await this.interrupt(id, err.message);
          return;
        }
        if (run.stoppedBy === 'shutdown') {
          // Not ended: still running under this daemon, which is going, the next start takes it over and resumes it.
          this.deps.log.warn({ err, loop: id }, 'a PIV loop stopped with the daemon could not be queued again; the next start resumes it');
          return;
        }
        this.deps.log.error({ err, loop: id }, 'PIV loop failed outside its phases');
        await this.finishUnrun(await this.runs.get(id), 'failed', `the loop could not go on: ${(err as Error).message}`).catch((e: unknown) =>
          this.deps.log.error({ err: e, loop: id }, 'could not record the failure of a PIV loop'),
        );
      } finally {
        this.active.delete(id);
        for (const wake of this.waiters.get(id) ?? []) wake();
        this.waiters.delete(id);
        this.pump();
      }
    })();
  }

  /** A loop that cannot start (or go on) in its checkout as it is waits, interrupted, for a person to clean it and resume it. */
  private async interrupt(id: string, why: string): Promise<void> {
    const state = await this.store.load(id);
    if (!(await this.runs.setStatus(id, 'interrupted', this.deps.clock.now(), ['running'], this.owner))) return;
    await this.store.log(id, { at: this.deps.clock.now().toISOString(), phase: state && state.next !== 'done' ? state.next : 'prime', message: `interrupted before it touched the checkout: ${why}` });
  }

  /**
   * Saves the end of a loop run here. Task timing and the learning are recorded first, so
   * get_piv_status never says finished without them. A loop the daemon's shutdown stopped is not
   * finished: it goes back in the queue instead (requeue), and only when it cannot is its stop saved
   * as its end.
   */
  private async saveEnd(project: string, state: PivState, run: ActiveRun | undefined): Promise<void> {
    if (stoppedForShutdown(state.status, run) && (await this.requeue(state))) return;
    if (!notEndedHere(state.status, run)) await this.records.finished(project, state);
    await this.ownStore.save(state);
  }

  /**
   * Puts a loop the daemon's shutdown stopped (`stopped`, its end as the loop saw it) back in the
   * queue, to resume at the phase it was in, with the state to resume from, in one transaction: so
   * a daemon killed at any moment of its stop leaves the loop either running under a gone owner
   * (the next start takes it over) or queued, never ended. False, and nothing written, when the loop
   * is no longer this daemon's (another took it over meanwhile) or its project was removed during
   * the stop: then its stop is its end.
   */
  private async requeue(stopped: PivState): Promise<boolean> {
    const { id } = stopped;
    const phase = stopped.failure?.phase ?? 'prime';
    // An implement cut short by the shutdown was no attempt: it is not counted against maxRetries.
    const cut = stopped.timings.at(-1);
    const attempts = phase === 'implement' && cut?.phase === 'implement' && cut.outcome === 'interrupted' ? cut.attempt - 1 : stopped.attempts;
    // Printed now, with its agent stopped: an edit made while the daemon is down is then someone else's.
    const resumable = await this.withCutOffTree({ ...stopped, status: 'running', next: phase, attempts, failure: undefined, finishedAt: undefined }, id);
    const queued = await this.deps.db.transaction(async (tx) => {
      if (!(await this.runs.queueAgain(tx, id, this.owner, this.deps.clock.now()))) return false;
      await new DbPivStore(tx, this.deps.clock).save(resumable);
      return true;
    });
    if (!queued) {
      this.deps.log.info({ loop: id }, 'a PIV loop stopped with the daemon is not queued again: another daemon took it over, or its project was removed');
      return false;
    }
    await this.store.log(id, { at: this.deps.clock.now().toISOString(), phase, message: `the daemon stopped; the loop resumes at ${phase} when it starts again` });
    return true;
  }

  /**
   * Ends a loop that is not running in this process (queued, interrupted, or its daemon gone), as
   * `row` read it: false, and nothing ended, when the row has changed since.
   */
  private async finishUnrun(row: RunRow, status: 'cancelled' | 'failed', message: string): Promise<boolean> {
    if (row.state) {
      if (!(await this.saveUnrunEnd(this.store, row.state, status, message, this.deps.clock.now(), row))) return false;
    } else if (!(await this.runs.setStatusIf(row.id, status, this.deps.clock.now(), row))) {
      return false;
    }
    // A phase its gone daemon left under way was cut off there, not by this end.
    if (row.status === 'running') await this.records.cutOff(row.id);
    await this.records.endedUnrun(row.id, status, message);
    return true;
  }

  /**
   * Saves the end of a loop that does not run here, with its progress log line; only while the row
   * is still as `read` when given (false when it has moved on).
   */
  private async saveUnrunEnd(store: DbPivStore, state: PivState, status: 'cancelled' | 'failed', message: string, now: Date, read?: RunRow): Promise<boolean> {
    const at = now.toISOString();
    const phase = state.next === 'done' ? 'prime' : state.next;
    const ended: PivState = { ...state, status, next: 'done', failure: { phase, reason: status === 'cancelled' ? 'cancelled' : 'error', message }, finishedAt: at };
    if (read) {
      if (!(await store.saveIf(ended, read))) return false;
    } else {
      await store.save(ended);
    }
    await store.log(state.id, { at, phase, message });
    return true;
  }

  /** A loop bound to its project: knowledge primed from that project, phases recorded as its tasks. */
  private loopFor(id: string, project: string, run?: ActiveRun): PivLoop {
    return new PivLoop({
      agent: this.agent,
      store: this.ownStore,
      clock: this.deps.clock,
      newId: () => id,
      knowledge: async (feature) => {
        // A feature said in common words only ("do it all") has nothing to search for: nothing primed, not a failed loop.
        const searched = await this.deps.knowledge.search(SYSTEM, { query: feature, project, limit: KNOWLEDGE_PRIMED, withText: true }).catch((err: unknown) => {
          if (err instanceof SupervisorError && err.code === 'invalid_input') return { results: [] };
          throw err;
        });
        return searched.results.map((hit) => `${hit.title}: ${hit.text ?? hit.snippet}`);
      },
      onPhase: async (event) => {
        if (event.event === 'started') await this.runs.setPhase(event.loopId, event.phase, event.at);
        await this.records.phase(project, event, run?.stoppedBy === 'takenOver' ? 'another daemon took the loop over while this one was out of touch with the database' : undefined);
      },
      whenClean: (loopId) => `then resume the loop: resume_piv ${loopId}`,
      saveEnd: (state) => this.saveEnd(project, state, run),
      onAgentLine: (_id, phase, line) => {
        if (!run) return;
        run.lines.push(`[${phase}] ${line.summary}`);
        if (run.lines.length > LAST_LINES) run.lines.shift();
      },
      onSpawn: (_id, _phase, pid) => {
        void this.runs.setAgentGroup(id, `${pid}:${processStart(pid) ?? ''}`).catch(() => undefined);
      },
    });
  }

  /**
   * Resolves when the loop stops running here (finished, interrupted or requeued) or `going`
   * (by default: it ends wherever it runs) says it no longer goes, or after `ms`; at once when it
   * does not go to begin with.
   */
  private async waitFor(id: string, ms: number, going = (): Promise<boolean> => this.stillGoing(id)): Promise<void> {
    // An interrupted loop (or one whose daemon is gone) waits for a person's resume_piv: waiting here would only hold the caller.
    if (!(await going())) return;
    await new Promise<void>((resolve) => {
      let over = false;
      let look: NodeJS.Timeout | undefined;
      const end = () => {
        over = true;
        clearTimeout(timer);
        clearTimeout(look);
        resolve();
      };
      const timer = setTimeout(end, ms);
      timer.unref();
      // A loop another daemon on the database runs (or takes from the queue) ends there, and
      // nothing here would hear of it: the database is looked at while it does not run here.
      const lookAgain = () => {
        look = setTimeout(() => {
          going().then(
            (pending) => void (over || (pending ? lookAgain() : end())),
            () => void (over || lookAgain()),
          );
        }, OTHER_DAEMON_LOOK_MS);
        look.unref();
      };
      lookAgain();
      this.waiters.set(id, [...(this.waiters.get(id) ?? []), end]);
    });
  }

  /** Whether the loop runs here, or is queued, or running as callers see it (its daemon alive, wherever it is). */
  private async stillGoing(id: string): Promise<boolean> {
    return this.active.has(id) || PENDING.includes((await this.shown(await this.runs.get(id))).status);
  }

  /** The last lines of the last agent transcript, for a loop not running here. */
  private async lastAgentLines(id: string, state: PivState | null): Promise<string[]> {
    if (!state) return [];
    const names = await this.store.artifactNames(id);
    const last = names.filter((n) => n.endsWith('-agent')).at(-1);
    if (!last) return [];
    const text = (await this.store.getArtifact(id, last)) ?? '';
    // The lines between the two headers (none when the agent printed nothing: the headers are then a line apart).
    const lines = text.split('\n');
    const from = lines.indexOf('--- last lines');
    const to = lines.indexOf('--- result', from + 1);
    if (from === -1) return [];
    return lines.slice(from + 1, to === -1 ? undefined : to).filter(Boolean).slice(-LAST_LINES);
  }

  /**
   * Whether the daemon recorded as running a loop still runs it (this one), or still runs
   * (another, on any host; `alive`: the other daemons already known to run).
   */
  private async ownerRuns(row: RunRow, alive?: Set<string>): Promise<boolean> {
    const owner = row.owner;
    if (!owner) return false;
    if (owner === this.owner) return this.active.has(row.id) || this.beginning.has(row.id) || this.claiming > 0;
    return alive ? alive.has(owner) : this.deps.presence.alive(owner);
  }

  /** The daemons other than this one recorded as the owners of `rows`. */
  private otherOwners(rows: readonly RunRow[]): string[] {
    return rows.flatMap((row) => (row.owner && row.owner !== this.owner ? [row.owner] : []));
  }

  /** Whether the daemon recorded as running a loop is gone for sure (Presence.gone), so the loop may be taken over. */
  private async ownerGone(row: RunRow): Promise<boolean> {
    if (!row.owner || row.owner === this.owner) return !(await this.ownerRuns(row));
    return this.deps.presence.gone(row.owner);
  }

  private loopSettings(maxRetries: number | undefined) {
    const s = this.deps.settings;
    return {
      maxRetries: maxRetries ?? s.pivMaxRetries,
      firstOutputTimeoutMs: s.agentFirstOutputTimeoutMs,
      idleTimeoutMs: s.agentIdleTimeoutMs,
      validationTimeoutMs: s.pivValidationTimeoutMs,
      maxTurns: s.agentMaxTurns,
      maxBudgetUsd: s.agentMaxBudgetUsd,
      implementPermissionMode: s.agentPermissionMode,
    };
  }

  /** Loops run in the daemon; a CLI process without one would stop them when it exits. */
  private assertDaemon(): void {
    if (this.deps.longRunning) return;
    throw new SupervisorError('unavailable', 'PIV loops run in the daemon, and it is not running; start it (`supervisor daemon`, or `npm start`) and call again');
  }

  private authorize(principal: Principal, project: string): void {
    assertOwnProject(principal, project, 'the PIV loops');
  }
}

/** What would stop a loop from beginning in `dir` (no repository, no commit, uncommitted changes), as the refusal would say it. */
async function checkoutProblem(dir: string): Promise<string | undefined> {
  try {
    await assertReadyToBegin(await Git.open(dir));
    return undefined;
  } catch (err) {
    if (err instanceof SupervisorError) return err.message;
    throw err;
  }
}
