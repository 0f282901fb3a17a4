// Tasks as stored and answered. Durations are whole milliseconds from start to finish.
export const COMPLEXITIES = ['simple', 'medium', 'complex'] as const;
export type Complexity = (typeof COMPLEXITIES)[number];
export const TASK_STATUSES = ['running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export interface Task {
  id: string;
  type: string;
  project: string;
  description: string;
  complexity: Complexity;
  status: TaskStatus;
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
  error: string | null;
}

export interface TaskRow {
  id: string;
  type: string;
  project: string;
  description: string;
  complexity: Complexity;
  status: TaskStatus;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | string | null;
  error: string | null;
}

export const TASK_COLUMNS = 'id, type, project, description, complexity, status, started_at, finished_at, duration_ms, error';

export const toTask = (r: TaskRow): Task => ({
  id: r.id,
  type: r.type,
  project: r.project,
  description: r.description,
  complexity: r.complexity,
  status: r.status,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
  error: r.error,
});

/** One (type, project) group of get_task_stats. Durations are of succeeded tasks. */
export interface TaskStats {
  type: string;
  project: string;
  /** Finished tasks (succeeded + failed); cancelled and interrupted ones are counted apart. */
  count: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  interrupted: number;
  running: number;
  /** succeeded / count; null before any finished. */
  successRate: number | null;
  meanMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
}

/** Fewer similar succeeded tasks than this and an estimate is `insufficient_data` (a failed task says nothing of how long the work takes). */
export const MIN_SAMPLES = 5;

/** The stated fallback when there are not enough samples: durations by complexity (p50, p90). */
export const FALLBACK_MS: Record<Complexity, { p50: number; p90: number }> = {
  simple: { p50: 15 * 60_000, p90: 30 * 60_000 },
  medium: { p50: 60 * 60_000, p90: 120 * 60_000 },
  complex: { p50: 240 * 60_000, p90: 480 * 60_000 },
};

export const FALLBACK_RULE =
  'fewer than 5 similar succeeded tasks: default durations by complexity (p50/p90: simple 15/30 min, medium 60/120 min, complex 240/480 min)';

export interface Estimate {
  status: 'ok' | 'insufficient_data';
  type: string;
  project: string | null;
  complexity: Complexity;
  /** Similar succeeded tasks the figures come from (on insufficient_data: the most found at any level). */
  sampleSize: number;
  /** What "similar" meant: the fields matched. */
  basis: string;
  p50Ms: number;
  p90Ms: number;
  /** On insufficient_data: the rule the figures come from. */
  rule?: string;
}
