// Parity cases of the tasks domain: see test/parity/harness.ts. Each interface starts its own
// task (`…-via-<interface>`); the daemon's clock is frozen, so durations are 0 everywhere.
import assert from 'node:assert/strict';
import { setupActor, type Iface, type ParityCases, type ParityContext } from '../parity/harness.js';

const started = async (ctx: ParityContext, prefix: string, via: Iface) => {
  const id = `${prefix}-via-${via}`;
  await ctx.daemon.services.tasks.start(setupActor, { id, type: 'parity', project: 'meta' });
  return id;
};

export const tasksParity: ParityCases = (ctx) => ({
  start_task: {
    input: (via) => ({ id: `ts-via-${via}`, type: 'parity', project: 'meta', description: 'a parity task', complexity: 'simple' }),
  },
  complete_task: {
    input: async (via) => ({ id: await started(ctx, 'tc', via) }),
  },
  fail_task: {
    input: async (via) => ({ id: await started(ctx, 'tf', via), error: 'broke' }),
  },
  get_task_stats: {
    input: () => ({ type: 'parity-stats' }),
    async setup() {
      for (let i = 0; i < 3; i++) await ctx.daemon.services.tasks.start(setupActor, { id: `tst-${i}`, type: 'parity-stats', project: 'meta' });
      await ctx.daemon.services.tasks.complete(setupActor, 'tst-0');
    },
    check: (outputs) => assert.deepEqual((outputs[0]!.groups as Array<{ count: number }>).map((g) => g.count), [1]),
  },
  estimate_task: {
    input: () => ({ type: 'parity-estimate', project: 'meta' }),
    check: (outputs) => assert.equal(outputs[0]!.status, 'insufficient_data'),
  },
});
