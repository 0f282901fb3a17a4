import { z } from 'zod';
import { IDEMPOTENT_WRITE, operationsOf, READ, WRITE, type CliSpec } from '../catalog/operation.js';
import { complexity, description, errorText, estimateOutput, PIV_TYPE_PREFIX, project, statsOutput, taskId, taskOutput, taskType } from './schemas.js';
import { invalidInput } from '../core/errors.js';
import type { TaskService } from './service.js';

/** Durations read as 2h 03m, not 7380000; the success rate as a percentage. */
const TASK_FORMATS: CliSpec['formats'] = { durationMs: 'ms', meanMs: 'ms', p50Ms: 'ms', p90Ms: 'ms', successRate: 'fraction' };

const operation = operationsOf<TaskService>('tasks');

export const taskOperations = [
  operation({
    name: 'start_task',
    title: 'Start task',
    description: 'Start timing a piece of work; finish it with complete_task or fail_task. Call estimate_task first to know how long similar work took.',
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/tasks' },
    cli: { command: ['tasks', 'start'], args: ['project', 'type', 'description'], textArg: 'description' },
    input: z.object({ id: taskId.optional().describe('Your own id; omit for a new one'), type: taskType, project, description: description.optional(), complexity: complexity.optional() }),
    output: taskOutput.extend({ created: z.boolean().describe('False when a task with this id was already started') }),
    handler: async ({ svc, principal }, input) => {
      // The loop's own types are timed by the loop; a hand-made piv_run would count in its estimates.
      if (input.type.startsWith(PIV_TYPE_PREFIX)) {
        throw invalidInput(`type: ${PIV_TYPE_PREFIX}* types are the PIV loop's own, recorded as it runs; name your work another type (e.g. implement, bug_fix)`, { field: 'type' });
      }
      const { task, created } = await svc.start(principal, input);
      return { ...task, created };
    },
  }),
  operation({
    name: 'complete_task',
    title: 'Complete task',
    description: 'Mark a started task as done; its duration feeds get_task_stats and estimate_task.',
    access: 'any',
    annotations: WRITE,
    rest: { method: 'POST', path: '/tasks/complete' },
    cli: { command: ['tasks', 'complete'], args: ['id'], formats: TASK_FORMATS },
    input: z.object({ id: taskId }),
    output: taskOutput,
    handler: ({ svc, principal }, input) => svc.complete(principal, input.id),
  }),
  operation({
    name: 'fail_task',
    title: 'Fail task',
    description: 'Mark a started task as failed, with the reason.',
    access: 'any',
    annotations: WRITE,
    rest: { method: 'POST', path: '/tasks/fail' },
    cli: { command: ['tasks', 'fail'], args: ['id', 'error'], textArg: 'error', formats: TASK_FORMATS },
    input: z.object({ id: taskId, error: errorText.optional() }),
    output: taskOutput,
    handler: ({ svc, principal }, input) => svc.fail(principal, input.id, input.error),
  }),
  operation({
    name: 'get_task_stats',
    title: 'Task stats',
    description: 'Per task type and project: finished count, success rate, mean, p50 and p90 duration (of succeeded tasks).',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/tasks/stats' },
    cli: { command: ['tasks', 'stats'], args: ['type'], formats: TASK_FORMATS, headers: { count: 'finished' } },
    input: z.object({ type: taskType.optional(), project: project.optional() }),
    output: statsOutput,
    handler: async ({ svc, principal }, input) => ({ groups: await svc.stats(principal, input) }),
  }),
  operation({
    name: 'estimate_task',
    title: 'Estimate task',
    description: 'p50/p90 duration of similar past tasks, with the sample size; under 5 samples status is insufficient_data and a stated rule gives the figures.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/tasks/estimate' },
    cli: { command: ['tasks', 'estimate'], args: ['type'], formats: TASK_FORMATS },
    input: z.object({ type: taskType, project: project.optional(), complexity: complexity.optional() }),
    output: estimateOutput,
    handler: ({ svc, principal }, input) => svc.estimate(principal, input),
  }),
];
