// What get_piv_status and list_piv_runs answer about a loop: where it is and, once it has
// finished, the result the loop returns (status, branch, commits, files, validation output,
// timings per phase, turns and cost).
import type { ProgressEntry } from './model.js';
import { formatRuns, type ValidationReport } from './validate.js';
import type { RunRow, RunStatus } from './runs.js';

export interface RunView {
  id: string;
  project: string;
  feature: string;
  status: RunStatus;
  /** The phase running now (or next, while queued or interrupted; the last one once finished). */
  phase: string;
  branch: string;
  baseBranch: string | null;
  createdAt: Date;
  startedAt: string | null;
  finishedAt: string | null;
  elapsedMs: number;
  retries: number;
  turns: number;
  costUsd: number;
  commits?: Array<{ sha: string; subject: string }>;
  filesChanged?: string[];
  failure?: { phase: string; reason: string; message: string } | null;
  validation?: { ok: boolean; commands: string[]; failedCommand: string | null; output: string } | null;
  timings?: Array<{ phase: string; attempt: number; durationMs: number; outcome: string }>;
  plan?: string | null;
  planChars?: number;
  lastLines?: string[];
  progress?: ProgressEntry[];
  artifacts?: string[];
  artifact?: { name: string; text: string } | null;
  note?: string;
}

/** Of validation output in a status: the end of the last command's (the one that failed, if one did), and a shorter end of each that passed before it. */
const OUTPUT_CHARS = 4_000;
const PASSED_OUTPUT_CHARS = 1_000;
/** A plan can run to pages: a status answered again and again gives its start, the artifact gives it whole. */
export const PLAN_CHARS = 2_000;

/** The plan's first PLAN_CHARS characters, cut at a line end when one is near, saying how to get the rest. */
function planStart(plan: string): string {
  if (plan.length <= PLAN_CHARS) return plan;
  const cut = plan.lastIndexOf('\n', PLAN_CHARS);
  const start = plan.slice(0, cut > PLAN_CHARS / 2 ? cut : PLAN_CHARS);
  return `${start}\n… (${plan.length - start.length} more characters; get_piv_status with artifact "plan" answers it whole)`;
}

export interface ViewExtra {
  now: Date;
  brief?: boolean;
  plan?: string;
  lines?: string[];
  progress?: ProgressEntry[];
  artifacts?: string[];
  artifact?: { name: string; text: string } | null;
  /** What the status alone does not say (no daemon runs a loop marked running; a queued loop waits for a slot). */
  note?: string;
}

export function runView(row: RunRow, extra: ViewExtra): RunView {
  const state = row.state;
  const started = state?.startedAt ?? null;
  const end = state?.finishedAt ? Date.parse(state.finishedAt) : extra.now.getTime();
  const view: RunView = {
    id: row.id,
    project: row.project,
    feature: row.feature,
    status: row.status,
    phase: row.phase,
    branch: row.branch,
    baseBranch: state?.baseBranch ?? null,
    createdAt: row.created_at,
    startedAt: started,
    finishedAt: state?.finishedAt ?? null,
    elapsedMs: started ? Math.max(0, end - Date.parse(started)) : 0,
    retries: Math.max(0, (state?.attempts ?? 0) - 1),
    turns: state?.turns ?? 0,
    costUsd: state?.costUsd ?? 0,
    // Also for a loop with no state yet (its daemon died as it began it).
    ...(extra.note !== undefined ? { note: extra.note } : {}),
  };
  if (extra.brief || !state) return view;
  const report = state.validation;
  return {
    ...view,
    commits: state.commits,
    filesChanged: state.filesChanged,
    failure: state.failure ?? null,
    validation: report
      ? { ok: report.ok, commands: report.runs.map((r) => r.command), failedCommand: report.failed?.command ?? null, output: validationOutput(report) }
      : null,
    timings: state.timings.map((t) => ({ phase: t.phase, attempt: t.attempt, durationMs: t.durationMs, outcome: t.outcome })),
    plan: extra.plan === undefined ? null : planStart(extra.plan),
    ...(extra.plan === undefined ? {} : { planChars: extra.plan.length }),
    lastLines: extra.lines ?? [],
    progress: extra.progress ?? [],
    artifacts: extra.artifacts ?? [],
    ...(extra.artifact !== undefined ? { artifact: extra.artifact } : {}),
  };
}

/** Every command's output, each under its command, so a failure is read with what ran before it. */
function validationOutput(report: ValidationReport): string {
  const last = report.runs.at(-1);
  return formatRuns(report.runs, (run) => (run === last ? OUTPUT_CHARS : PASSED_OUTPUT_CHARS));
}
