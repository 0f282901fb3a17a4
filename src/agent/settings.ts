import { z } from 'zod';
import { commandSetting } from '../core/setting-schemas.js';
import { defineSettings } from '../core/settings.js';

const ms = z.coerce.number().int().positive();
const optionalNumber = (schema: z.ZodType<number>) => z.preprocess((v) => (v === '' || v === null ? undefined : v), schema.optional());

export const agentSettings = defineSettings({
  agentCommand: {
    env: 'SUPERVISOR_AGENT_COMMAND',
    schema: z.string().min(1),
    whenSet: commandSetting,
    default: 'claude',
    doc: 'The Claude Code executable the PIV loop runs headless (`claude -p --output-format stream-json`); a path, or a name on PATH.',
  },
  agentMaxTurns: { env: 'SUPERVISOR_AGENT_MAX_TURNS', schema: optionalNumber(z.coerce.number().int().positive()), default: undefined, doc: "Claude Code's --max-turns per agent run; unset means its own default." },
  agentMaxBudgetUsd: { env: 'SUPERVISOR_AGENT_MAX_BUDGET_USD', schema: optionalNumber(z.coerce.number().positive()), default: undefined, doc: "Claude Code's --max-budget-usd per agent run; unset means no limit." },
  agentPermissionMode: {
    env: 'SUPERVISOR_AGENT_PERMISSION_MODE',
    schema: z.enum(['default', 'acceptEdits', 'plan', 'bypassPermissions']),
    default: 'acceptEdits',
    doc: 'Permission mode of the Implement agent (the Plan agent always runs in plan mode).',
  },
  agentFirstOutputTimeoutMs: { env: 'SUPERVISOR_AGENT_FIRST_OUTPUT_TIMEOUT_MS', schema: ms, default: 120_000, doc: 'An agent that prints nothing this long after it starts is stopped with everything it started.' },
  agentIdleTimeoutMs: { env: 'SUPERVISOR_AGENT_IDLE_TIMEOUT_MS', schema: ms, default: 900_000, doc: 'An agent silent this long (after its first line) is stopped with everything it started.' },
  pivValidationTimeoutMs: { env: 'SUPERVISOR_PIV_VALIDATION_TIMEOUT_MS', schema: ms, default: 900_000, doc: 'Longest a validation command may run.' },
  pivMaxRetries: { env: 'SUPERVISOR_PIV_MAX_RETRIES', schema: z.coerce.number().int().min(0).max(10), default: 3, doc: 'Implement retries after a failed validation (a call may ask for fewer or more).' },
  pivConcurrency: { env: 'SUPERVISOR_PIV_CONCURRENCY', schema: z.coerce.number().int().min(1).max(32), default: 2, doc: 'PIV loops one daemon runs at once (one per project); the rest queue.' },
  pivResumeOnStart: {
    env: 'SUPERVISOR_PIV_RESUME_ON_START',
    schema: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]),
    default: true,
    doc: 'At daemon start, loops a stopped or crashed daemon left unfinished resume from their last finished phase; false marks them interrupted (resume_piv continues one).',
  },
});
