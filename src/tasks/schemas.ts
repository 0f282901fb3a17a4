import { z } from 'zod';
import { projectName } from '../core/names.js';
import { COMPLEXITIES, TASK_STATUSES, type Estimate, type Task, type TaskStats } from './model.js';

const noNul = (s: string) => !s.includes('\0');

export const taskId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9:._-]{0,127}$/, 'a task id is 1-128 characters: letters, digits, :, ., _ and -')
  .describe('Task id (from start_task)');
/** Task types the PIV loop records itself (piv_run, piv_plan, …); start_task refuses them. */
export const PIV_TYPE_PREFIX = 'piv_';

export const taskType = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]{0,62}$/, 'a task type is 1-63 characters: lowercase letters, digits, _, . and -, starting with a letter')
  .describe('Kind of work, e.g. bug_fix, feature (piv_* are the PIV loop\'s)');
export const complexity = z.enum(COMPLEXITIES).describe('simple, medium (default) or complex');
export const project = projectName.describe('Project name');

const isoDate = z.string().describe('ISO 8601 timestamp');
const ms = z.number().int().nullable();

export const taskOutput = z.object({
  id: z.string(),
  type: z.string(),
  project: z.string(),
  description: z.string(),
  complexity: z.enum(COMPLEXITIES),
  status: z.enum(TASK_STATUSES),
  startedAt: isoDate,
  finishedAt: isoDate.nullable(),
  durationMs: ms.describe('Start to finish; null while running'),
  error: z.string().nullable(),
});

export const taskView = (t: Task) => ({ ...t });

export const statsOutput = z.object({
  groups: z.array(
    z.object({
      type: z.string(),
      project: z.string(),
      count: z.number().int().describe('Finished tasks: succeeded + failed'),
      succeeded: z.number().int(),
      failed: z.number().int(),
      cancelled: z.number().int().describe('Stopped by a person (a cancelled PIV loop): not in count or successRate'),
      interrupted: z.number().int().describe('Cut off by the daemon stopping, resumed later: not in count or successRate'),
      running: z.number().int(),
      successRate: z.number().nullable().describe('succeeded / count'),
      meanMs: ms,
      p50Ms: ms,
      p90Ms: ms,
    }),
  ),
});

export const statsView = (groups: TaskStats[]) => ({ groups });

export const estimateOutput = z.object({
  status: z.enum(['ok', 'insufficient_data']),
  type: z.string(),
  project: z.string().nullable(),
  complexity: z.enum(COMPLEXITIES),
  sampleSize: z.number().int().describe('Similar succeeded tasks found'),
  basis: z.string().describe('What counted as similar'),
  p50Ms: z.number().int(),
  p90Ms: z.number().int(),
  rule: z.string().optional().describe('The fallback rule, on insufficient_data'),
});

export const estimateView = (e: Estimate) => e;

export const description = z.string().max(2000).refine(noNul, 'must not contain NUL bytes').describe('What the task is');
export const errorText = z.string().max(4000).refine(noNul, 'must not contain NUL bytes').describe('Why it failed');
