// The PIV loop's state and result. The state is plain JSON (ISO timestamps, no class
// instances) so a store can keep it as one document and a loop can resume from it.
import type { AgentFailureReason, PermissionMode } from './agent.js';
import type { Commit } from './git.js';
import type { ValidationReport } from './validate.js';

export type Phase = 'prime' | 'plan' | 'implement' | 'validate' | 'commit';
export type LoopStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

export type PivFailureReason =
  | AgentFailureReason
  /** The plan agent finished without writing a plan. */
  | 'empty_plan'
  /** The implement agent finished without changing a file. */
  | 'no_changes'
  | 'retries_exhausted'
  /** A retry failed validation exactly as the attempt before it did. */
  | 'repeated_failure'
  /** Something outside the agent failed (git, the file system, the branch was switched). */
  | 'error';

/** Fixed when the loop begins and kept with it, so a resumed loop runs as it started. */
export interface PivSettings {
  validationCommands: string[];
  /** Implement runs after the first; default 3. */
  maxRetries: number;
  firstOutputTimeoutMs: number;
  idleTimeoutMs: number;
  /** Per validation command. */
  validationTimeoutMs: number;
  /** Per agent run. */
  maxTurns?: number;
  /** Per agent run. */
  maxBudgetUsd?: number;
  model?: string;
  planPermissionMode: PermissionMode;
  implementPermissionMode: PermissionMode;
}

export const DEFAULT_SETTINGS: Omit<PivSettings, 'validationCommands'> = {
  maxRetries: 3,
  // Claude Code can take a while to start when it connects to MCP servers.
  firstOutputTimeoutMs: 120_000,
  // A tool call (a test suite run by the agent) prints nothing until it ends.
  idleTimeoutMs: 15 * 60_000,
  validationTimeoutMs: 15 * 60_000,
  planPermissionMode: 'plan',
  implementPermissionMode: 'acceptEdits',
};

export interface PhaseTiming {
  phase: Phase;
  /** The implement attempt the phase belongs to (0 before the first). */
  attempt: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** `interrupted`: cut off by the daemon's stop, to run again when the loop resumes (loops saved before say `cancelled`). */
  outcome: 'ok' | 'failed' | 'cancelled' | 'interrupted';
}

export interface LoopFailure {
  phase: Phase;
  reason: PivFailureReason;
  message: string;
}

/** The failing validation command an implement retry is asked to fix. */
export interface ValidationFailure {
  command: string;
  exitCode: number | null;
  outputTail: string;
  signature: string;
}

export interface PivState {
  id: string;
  /** The repository's top folder. */
  repoDir: string;
  feature: string;
  baseBranch: string;
  /** Where the feature branch starts; the loop's commit comes right after it. */
  baseSha: string;
  branch: string;
  /**
   * From start_piv until the loop first runs: the branch is named but not created, and the
   * checkout is untouched (a queued loop must not switch a checkout someone may still work in).
   */
  branchPending?: boolean;
  /**
   * The uncommitted changes as the loop last left them (path → content hash, see tree.ts): the
   * loop goes on only over these, so it never commits a change it did not make.
   */
  tree?: Record<string, string>;
  /**
   * The phase running when this was saved: set just before a phase that writes to the tree
   * (implement, validate) starts, cleared when it is saved done. Still set when the loop is next
   * run, its run was cut off (a crash, a shutdown), and what is in the tree is that phase's work.
   */
  inPhase?: Phase;
  settings: PivSettings;
  status: LoopStatus;
  /** The phase to run next: where a resumed loop starts. */
  next: Phase | 'done';
  /** Implement runs so far: 1 after the first, 2 after the first retry, … */
  attempts: number;
  /** Files that validation commands themselves created or changed (build output); never staged. */
  validationOutputs: string[];
  lastFailure?: ValidationFailure;
  /** The last validation's report. */
  validation?: ValidationReport;
  timings: PhaseTiming[];
  /** Summed over every agent run. */
  turns: number;
  costUsd: number;
  commits: Commit[];
  /** Committed files on success; the uncommitted changes left for inspection otherwise. */
  filesChanged: string[];
  failure?: LoopFailure;
  startedAt: string;
  finishedAt?: string;
}

export interface PivResult {
  id: string;
  status: LoopStatus;
  branch: string;
  baseBranch: string;
  failure?: LoopFailure;
  commits: Commit[];
  filesChanged: string[];
  plan?: string;
  validation?: ValidationReport;
  retries: number;
  timings: PhaseTiming[];
  turns: number;
  costUsd: number;
  startedAt: string;
  finishedAt?: string;
}

/** One line of a loop's progress log. */
export interface ProgressEntry {
  at: string;
  phase: Phase;
  message: string;
}
