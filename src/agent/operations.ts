import { z } from 'zod';
import { DESTRUCTIVE, IDEMPOTENT_WRITE, operationsOf, READ, WRITE } from '../catalog/operation.js';
import { pageInput, pageOutput } from '../core/page.js';
import { MAX_WAIT_SECONDS, project, runId, runOutput, runStatus, startInput, validationCommands, waitSeconds } from './schemas.js';
import type { AgentService } from './service.js';

const operation = operationsOf<AgentService>('agent');

/** `--wait` at the command line: until the loop is no longer queued or running, get_piv_status repeated (CliSpec.wait). */
const untilLoopEnds = { seconds: 'waitSeconds', max: MAX_WAIT_SECONDS, field: 'status', pending: ['queued', 'running'], failed: ['failed', 'cancelled', 'interrupted'] };
/** The same after start_piv or resume_piv, which are called once: the loop is neither started nor resumed again. */
const thenUntilLoopEnds = { ...untilLoopEnds, repeat: { operation: 'get_piv_status', input: { id: 'id' } } };

export const agentOperations = [
  operation({
    name: 'start_piv',
    title: 'Start PIV loop',
    description:
      "Build a feature in a project's repo: Plan, Implement, Validate (retries on failure), commit on feature/<slug>. Answers the loop id at once; poll get_piv_status (or pass waitSeconds). Refuses a dirty tree.",
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/piv' },
    cli: { command: ['piv', 'start'], args: ['project', 'feature'], textArg: 'feature', whole: ['validationCommands'], wait: thenUntilLoopEnds },
    input: startInput,
    output: runOutput,
    handler: ({ svc, principal }, input) => svc.start(principal, input),
  }),
  operation({
    name: 'configure_piv',
    title: 'Configure PIV',
    description: "Set a project's validation commands for its loops (used when start_piv gives none; null: detect them again).",
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'PUT', path: '/piv/project' },
    cli: { command: ['piv', 'configure'], args: ['project'], whole: ['validationCommands'] },
    input: z.object({ project, validationCommands: validationCommands.nullable().describe('Commands that must pass, in order; null: detect them again') }),
    output: z.object({ project: z.string(), validationCommands: z.array(z.string()).nullable() }),
    handler: ({ svc, principal }, input) => svc.configure(principal, input.project, input.validationCommands),
  }),
  operation({
    name: 'get_piv_status',
    title: 'PIV loop status',
    description: 'Phase, elapsed time, last agent lines of a loop; once finished its result: commits, files, validation output, timings, turns, cost.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/piv' },
    cli: { command: ['piv', 'status'], args: ['id'], wait: untilLoopEnds },
    input: z.object({
      id: runId,
      artifact: z.string().max(100).optional().describe('Also answer this artifact whole (see artifacts)'),
      progressEntries: z.number().int().min(1).max(1000).default(10).describe('How many of the last progress log entries to answer'),
      waitSeconds,
    }),
    output: runOutput,
    handler: ({ svc, principal }, input) => svc.status(principal, input.id, input),
  }),
  operation({
    name: 'list_piv_runs',
    title: 'List PIV loops',
    description: 'PIV loops, newest first.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/piv/runs' },
    cli: { command: ['piv', 'list'], args: ['project'] },
    input: z.object({ project: project.optional(), status: runStatus.optional().describe('Only loops in this status'), ...pageInput }),
    output: z.object({ items: z.array(runOutput), ...pageOutput }),
    handler: ({ svc, principal }, input) => svc.list(principal, input),
  }),
  operation({
    name: 'cancel_piv',
    title: 'Cancel PIV loop',
    description: "Stop a loop: its agent and everything it started are killed; its uncommitted changes stay on the branch.",
    access: 'any',
    annotations: DESTRUCTIVE,
    rest: { method: 'POST', path: '/piv/cancel' },
    cli: { command: ['piv', 'cancel'], args: ['id'] },
    input: z.object({ id: runId }),
    output: runOutput,
    handler: ({ svc, principal }, input) => svc.cancel(principal, input.id),
  }),
  operation({
    name: 'resume_piv',
    title: 'Resume PIV loop',
    description: 'Continue an interrupted loop from the phase after the last one that finished.',
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/piv/resume' },
    cli: { command: ['piv', 'resume'], args: ['id'], wait: thenUntilLoopEnds },
    input: z.object({ id: runId, waitSeconds }),
    output: runOutput,
    handler: ({ svc, principal }, input) => svc.resume(principal, input.id, input.waitSeconds),
  }),
];
