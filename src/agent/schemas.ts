import { z } from 'zod';
import { projectName } from '../core/names.js';
import { PLAN_CHARS } from './view.js';

const isoDate = z.string().describe('ISO 8601 timestamp');
export const runId = z.string().regex(/^[0-9a-f-]{36}$/, 'a loop id is the UUID start_piv answered').describe('Loop id (from start_piv)');
export const project = projectName.describe('Project name');
export const runStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted']);
const noNul = (s: string) => !s.includes('\0');
/** Under the 60 s after which MCP clients give up on a request (the SDKs' default), so a waiting call is answered, not dropped. */
export const MAX_WAIT_SECONDS = 50;
export const waitSeconds = z
  .number()
  .int()
  .min(0)
  .max(MAX_WAIT_SECONDS, `at most ${MAX_WAIT_SECONDS}: MCP clients give up on a call after 60 s; to wait longer, call get_piv_status again`)
  .default(0)
  .describe(`Wait up to this long (max ${MAX_WAIT_SECONDS}) for the end (0: answer now)`);

export const validationCommands = z
  // A blank command runs nothing and passes: a loop "validated" by it would be validated by nothing.
  .array(z.string().max(1000).regex(/\S/, 'must not be blank').refine(noNul, 'must not contain NUL bytes'))
  .max(20)
  .describe('Shell commands that must pass, in order (build, lint, tests)');

export const startInput = z.object({
  project,
  feature: z.string().min(1).max(8000).refine(noNul, 'must not contain NUL bytes').describe('The feature to build, as you would tell a developer'),
  validationCommands: validationCommands.optional().describe("Shell commands that must pass (default: the project's, see configure_piv, else detected)"),
  baseBranch: z.string().max(200).optional().describe("Branch to start from (default: the one checked out, or the base of the earlier loop's branch checked out)"),
  maxRetries: z.number().int().min(0).max(10).optional().describe('Implement retries after failed validation (default 3)'),
  complexity: z.enum(['simple', 'medium', 'complex']).optional().describe('For task timing'),
  waitSeconds,
});

export const runOutput = z.object({
  id: z.string(),
  project: z.string(),
  feature: z.string(),
  status: runStatus,
  phase: z.string().describe('prime, plan, implement, validate or commit'),
  branch: z.string(),
  baseBranch: z.string().nullable(),
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  elapsedMs: z.number().int(),
  retries: z.number().int(),
  turns: z.number().int(),
  costUsd: z.number(),
  commits: z.array(z.object({ sha: z.string(), subject: z.string() })).optional(),
  filesChanged: z.array(z.string()).optional(),
  failure: z.object({ phase: z.string(), reason: z.string(), message: z.string() }).nullable().optional(),
  validation: z
    .object({ ok: z.boolean(), commands: z.array(z.string()), failedCommand: z.string().nullable(), output: z.string().describe('Each command run: "$ command", its exit, the end of its output (the last one\'s longest)') })
    .nullable()
    .optional(),
  timings: z.array(z.object({ phase: z.string(), attempt: z.number().int(), durationMs: z.number().int(), outcome: z.string() })).optional(),
  plan: z.string().nullable().optional().describe(`Its first ${PLAN_CHARS.toLocaleString('en')} characters; artifact "plan" gives it whole`),
  planChars: z.number().int().optional().describe("The whole plan's length"),
  lastLines: z.array(z.string()).optional().describe("The agent's last output lines"),
  progress: z.array(z.object({ at: isoDate, phase: z.string(), message: z.string() })).optional().describe('The last progressEntries (default 10) entries of the progress log, oldest first'),
  artifacts: z.array(z.string()).optional().describe('Kept texts: context, plan, plan-agent, implement-<n>-agent (transcripts), validation-<n>'),
  artifact: z.object({ name: z.string(), text: z.string() }).nullable().optional().describe('The artifact asked for'),
  note: z.string().optional().describe('What the status alone does not say: no daemon runs a loop marked running, or a queued loop waits for a slot'),
});
