// The five phases of a loop. Each reads the state, does its work and says what changes in the
// state and which phase comes next; the engine (loop.ts) times, records and persists them.
//
// Where commits happen: only in `commit`, which runs only straight after a validation that
// passed. Implement leaves its changes uncommitted in the working tree (an agent that commits
// on its own has its commits undone, its changes kept), so failing work is never committed.
import type { Clock } from '../core/clock.js';
import { isSupervisorWritten } from '../instructions/index.js';
import type { AgentRunResult, AgentRunner, PermissionMode } from './agent.js';
import type { FileChange, Git } from './git.js';
import type { Phase, PivFailureReason, PivState, ValidationFailure } from './model.js';
import { prime, renderContext, type KnowledgeSearch } from './prime.js';
import { SYSTEM_PROMPT, implementPrompt, planPrompt, retryPrompt } from './prompts.js';
import { loopEnv } from './process-group.js';
import { contentHash } from './tree.js';
import type { PivStore } from './store.js';
import type { StreamLine } from './stream-json.js';
import { failureSignature, formatRuns, runValidation } from './validate.js';
import { clipped } from '../core/clip.js';

export interface PhaseDeps {
  agent: AgentRunner;
  store: PivStore;
  clock: Clock;
  knowledge?: KnowledgeSearch;
  /** Every line the agent prints, as it prints it (a live status view). */
  onAgentLine?: (loopId: string, phase: Phase, line: StreamLine) => void;
  /** A phase's agent or validation command has started (its pid is its process group's id), so a restart can stop what a crash left. */
  onSpawn?: (loopId: string, phase: Phase, pid: number) => void;
}

export interface PhaseContext extends PhaseDeps {
  git: Git;
  state: PivState;
  signal?: AbortSignal;
  /** Adds a line to the loop's progress log. */
  log(message: string): Promise<void>;
}

/** Why a phase ends the loop, and what the person reading it needs to know. */
type LoopStop = { reason: PivFailureReason; message: string };

export interface Outcome {
  patch: Partial<PivState>;
  /** The phase did not do its job, though the loop may go on (validation failed, a retry follows). */
  failed?: boolean;
  /** Ends the loop. */
  stop?: LoopStop;
}

export const PHASES: Record<Phase, (c: PhaseContext) => Promise<Outcome>> = {
  prime: primePhase,
  plan: planPhase,
  implement: implementPhase,
  validate: validatePhase,
  commit: commitPhase,
};

async function primePhase(c: PhaseContext): Promise<Outcome> {
  const context = await prime({ git: c.git, feature: c.state.feature, knowledge: c.knowledge });
  await c.store.putArtifact(c.state.id, 'context', renderContext(context));
  return { patch: { next: 'plan' } };
}

async function planPhase(c: PhaseContext): Promise<Outcome> {
  const context = (await c.store.getArtifact(c.state.id, 'context')) ?? '';
  const run = await runAgent(c, 'plan', 'plan-agent', planPrompt(c.state.feature, context), c.state.settings.planPermissionMode);
  const usage = usageAfter(c.state, run);
  if (!run.ok) return agentFailed('plan', run, usage);
  const plan = run.resultText.trim();
  if (plan === '') return { patch: usage, failed: true, stop: { reason: 'empty_plan', message: 'plan: the agent finished without writing a plan' } };
  await c.store.putArtifact(c.state.id, 'plan', plan);
  return { patch: { ...usage, next: 'implement' } };
}

async function implementPhase(c: PhaseContext): Promise<Outcome> {
  const { state } = c;
  const attempt = state.attempts + 1;
  const plan = (await c.store.getArtifact(state.id, 'plan')) ?? '';
  const commands = state.settings.validationCommands;
  const prompt = state.lastFailure
    ? retryPrompt(state.feature, plan, commands, state.lastFailure, attempt - 1, state.settings.maxRetries)
    : implementPrompt(state.feature, plan, commands);
  const run = await runAgent(c, 'implement', `implement-${attempt}-agent`, prompt, state.settings.implementPermissionMode);
  const validationOutputs = await untouchedOutputs(c);
  const patch = { ...usageAfter(state, run), attempts: attempt, validationOutputs };

  const away = await backOnBranch(c, 'implement');
  if (away) return { patch, failed: true, stop: away };
  if ((await c.git.sha()) !== state.baseSha) {
    await c.git.uncommitTo(state.baseSha);
    await c.log('the agent made commits of its own; they were undone (its changes kept) so that only validated work is committed');
  }
  if (!run.ok) return agentFailed('implement', run, patch);
  if ((await agentChanges({ git: c.git, state: { ...state, validationOutputs } })).length === 0) {
    return { patch, failed: true, stop: { reason: 'no_changes', message: 'implement: the agent finished without changing any file' } };
  }
  return { patch: { ...patch, next: 'validate' } };
}

async function validatePhase(c: PhaseContext): Promise<Outcome> {
  const { state } = c;
  const before = new Set((await c.git.changes()).map((ch) => ch.path));
  const report = await runValidation(state.settings.validationCommands, {
    cwd: c.git.root,
    timeoutMs: state.settings.validationTimeoutMs,
    signal: c.signal,
    clock: c.clock,
    env: loopEnv(state.id),
    onSpawn: (pid) => {
      try {
        c.onSpawn?.(state.id, 'validate', pid);
      } catch {
        // Bookkeeping only.
      }
    },
  });
  const made = (await c.git.changes()).map((ch) => ch.path).filter((p) => !before.has(p));
  const patch: Partial<PivState> = { validation: report, validationOutputs: [...new Set([...state.validationOutputs, ...made])] };
  await c.store.putArtifact(state.id, `validation-${state.attempts}`, formatRuns(report.runs));

  if (report.cancelled) return { patch, failed: true, stop: { reason: 'cancelled', message: 'validate: the loop was cancelled' } };
  const run = report.failed;
  if (run === undefined) return { patch: { ...patch, next: 'commit' } };

  const failure: ValidationFailure = {
    command: run.command,
    exitCode: run.exitCode,
    outputTail: run.outputTail,
    signature: failureSignature(run, [c.git.root]),
  };
  const retries = state.attempts - 1;
  const how = `\`${run.command}\` ${run.timedOut ? `ran longer than ${state.settings.validationTimeoutMs} ms` : `exited with code ${run.exitCode}`}`;
  const failed = { patch: { ...patch, lastFailure: failure }, failed: true };
  if (state.lastFailure?.signature === failure.signature) {
    const message = `validate: ${how} and failed exactly as before the last retry, so retrying again would not help (${retries} ${plural(retries, 'retry', 'retries')} made)`;
    return { ...failed, stop: { reason: 'repeated_failure', message } };
  }
  if (retries >= state.settings.maxRetries) {
    return { ...failed, stop: { reason: 'retries_exhausted', message: `validate: ${how}, still failing after ${retries} ${plural(retries, 'retry', 'retries')}` } };
  }
  await c.log(`${how}; retry ${retries + 1} of ${state.settings.maxRetries} follows with its output`);
  return { ...failed, patch: { ...failed.patch, next: 'implement' } };
}

async function commitPhase(c: PhaseContext): Promise<Outcome> {
  const { state } = c;
  // Validation commands (or a person) may have switched branches: what is committed goes on the loop's branch or nowhere.
  const away = await backOnBranch(c, 'commit');
  if (away) return { patch: {}, failed: true, stop: away };
  const tree = await c.git.changes();
  const changes = agentOnly(state, tree);
  if (changes.length > 0) {
    await c.git.stage(changes.filter((ch) => ch.unstaged).map((ch) => ch.path));
    // Read again: staging drops a file that was added and then deleted, which git would no longer know by name.
    const chosen = agentOnly(state, await c.git.changes()).flatMap((ch) => (ch.from === undefined ? [ch.path] : [ch.from, ch.path]));
    // Only the chosen paths: the index may also hold a staged CLAUDE.md or validation output, which must stay out.
    const sha = await c.git.commit(commitMessage(state), chosen);
    await c.log(`committed ${sha.slice(0, 10)} on ${state.branch} (${changes.length} ${plural(changes.length, 'file', 'files')})`);
  } else if ((await c.git.commitsSince(state.baseSha)).length > 0) {
    // Resumed after the commit was made but before the state saying so was saved.
    await c.log('the commit was already made; not committing again');
  } else {
    return { patch: {}, failed: true, stop: { reason: 'no_changes', message: 'commit: there are no changes to commit' } };
  }
  if (state.validationOutputs.length > 0) await c.log(`left uncommitted, made by validation: ${state.validationOutputs.join(', ')}`);
  const written = tree.filter((ch) => isSupervisorWritten(ch.path)).map((ch) => ch.path);
  if (written.length > 0) await c.log(`left uncommitted: ${written.join(', ')} (files the supervisor writes; commit them apart from the feature)`);
  return {
    patch: {
      next: 'done',
      status: 'succeeded',
      commits: await c.git.commitsSince(state.baseSha),
      filesChanged: await c.git.filesChangedSince(state.baseSha),
      finishedAt: c.clock.now().toISOString(),
    },
  };
}

/**
 * The checkout moved off the loop's branch (the agent, a validation command or a person
 * switched it). When it sits on the same commit, the branch is checked out again with the
 * uncommitted work carried over (the tree is the one just built and validated); otherwise the
 * loop stops, saying where the work is, rather than commit it onto another branch.
 */
async function backOnBranch(c: PhaseContext, phase: Phase): Promise<LoopStop | undefined> {
  const { state, git } = c;
  const branch = await git.currentBranch();
  if (branch === state.branch) return undefined;
  const where = branch ?? 'a detached HEAD';
  if ((await git.sha()) === (await git.sha(state.branch))) {
    try {
      await git.switchTo(state.branch);
      await c.log(`the checkout had moved to ${where}; ${state.branch} is checked out again, the uncommitted work carried over`);
      return undefined;
    } catch (err) {
      return { reason: 'error', message: `${phase}: the checkout moved to ${where} and ${state.branch} could not be checked out again (${(err as Error).message.trim()}); the work is uncommitted in the tree, nothing was committed` };
    }
  }
  return {
    reason: 'error',
    message: `${phase}: the checkout moved to ${where}, which is at another commit than ${state.branch}; nothing was committed, and the work is uncommitted in the tree. Check out ${state.branch} (git switch carries the work) and commit it, or start a new loop`,
  };
}

async function runAgent(c: PhaseContext, phase: Phase, artifact: string, prompt: string, permissionMode: PermissionMode): Promise<AgentRunResult> {
  const s = c.state.settings;
  const run = await c.agent.run({
    cwd: c.git.root,
    prompt,
    systemPrompt: SYSTEM_PROMPT,
    permissionMode,
    maxTurns: s.maxTurns,
    maxBudgetUsd: s.maxBudgetUsd,
    model: s.model,
    firstOutputTimeoutMs: s.firstOutputTimeoutMs,
    idleTimeoutMs: s.idleTimeoutMs,
    signal: c.signal,
    env: loopEnv(c.state.id),
    onSpawn: (pid) => {
      try {
        c.onSpawn?.(c.state.id, phase, pid);
      } catch {
        // Bookkeeping only: the run goes on.
      }
    },
    onLine: (line) => {
      try {
        c.onAgentLine?.(c.state.id, phase, line);
      } catch {
        // A status view that fails must not stop the agent it is watching.
      }
    },
  });
  await c.store.putArtifact(c.state.id, artifact, transcript(run));
  return run;
}

function usageAfter(state: PivState, run: AgentRunResult): Partial<PivState> {
  return { turns: state.turns + run.turns, costUsd: state.costUsd + run.costUsd };
}

function agentFailed(phase: Phase, run: AgentRunResult, patch: Partial<PivState>): Outcome {
  return { patch, failed: true, stop: { reason: run.reason ?? 'error', message: `${phase}: ${run.message ?? 'the agent failed'}` } };
}

/**
 * The files validation made that are still as it left them (recorded in the tree's print after
 * validate). One the agent has since edited (a generated file it changed) is its work: committed.
 */
async function untouchedOutputs(c: Pick<PhaseContext, 'git' | 'state'>): Promise<string[]> {
  const left = c.state.tree;
  if (left === undefined) return c.state.validationOutputs;
  const untouched: string[] = [];
  for (const path of c.state.validationOutputs) if ((await contentHash(c.git.root, path)) === left[path]) untouched.push(path);
  return untouched;
}

/** Changes in the tree that the agent made: everything but what validation commands produced and the files the supervisor writes. */
export async function agentChanges(c: Pick<PhaseContext, 'git' | 'state'>): Promise<FileChange[]> {
  return agentOnly(c.state, await c.git.changes());
}

function agentOnly(state: PivState, tree: FileChange[]): FileChange[] {
  const outputs = new Set(state.validationOutputs);
  return tree.filter((ch) => !outputs.has(ch.path) && !isSupervisorWritten(ch.path));
}

function commitMessage(state: PivState): string {
  const [first = '', ...rest] = state.feature.trim().split('\n');
  const subject = clipped(first, 72);
  const body = rest.join('\n').trim();
  return [
    subject,
    ...(body ? [body] : []),
    `Planned, implemented and validated by the supervisor's PIV loop ${state.id}.\nValidation: ${state.settings.validationCommands.join('; ')}`,
  ].join('\n\n');
}

function transcript(run: AgentRunResult): string {
  return [
    `outcome: ${run.ok ? 'ok' : `${run.reason} (${run.message})`}`,
    `exit: ${run.signal ?? run.exitCode}; turns: ${run.turns}; cost: $${run.costUsd}`,
    '',
    '--- last lines',
    ...run.lines,
    '',
    '--- result',
    run.resultText,
    ...(run.stderr ? ['', '--- stderr', run.stderr] : []),
  ].join('\n');
}

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}
