// Parity cases of the projects domain: see test/parity/harness.ts.
import assert from 'node:assert/strict';
import { addProject } from '../helpers/projects.js';
import { portsProject } from '../ports/parity.js';
import { setupActor, type ParityCases } from '../parity/harness.js';

/** A default block's note, checked, for answers that differ only in where the block is. */
function blockShape(note: string): string {
  // A block with a deny-listed port (3306 in 3300-3399) says how many of its ports are usable.
  const [, start, end] = /^port range (\d+)-(\d+)(?:: \d+ of 100 ports usable \(.*\))?$/.exec(note) ?? [];
  assert.equal(Number(end) - Number(start) + 1, 100, note);
  return 'port range <a block of 100>';
}

export const projectsParity: ParityCases = (ctx) => ({
  add_project: {
    input: (via) => ({ project: `pa-via-${via}`, description: 'made by the parity test' }),
    // Each call gets the next free default block: compare its size, check the blocks differ.
    normalise: (o) => ({ ...o, notes: (o.notes as string[]).map(blockShape) }),
    check: (outputs) => assert.equal(new Set(outputs.map((o) => String(o.notes))).size, 3, 'three projects, three blocks'),
  },
  list_projects: {
    setup: () => portsProject(ctx),
    input: () => ({ limit: 200 }),
  },
  remove_project: {
    async input(via) {
      await addProject(ctx.daemon.services, setupActor.actor, { name: `pr-via-${via}` });
      return { project: `pr-via-${via}` };
    },
  },
  get_project: {
    async input(via) {
      await addProject(ctx.daemon.services, setupActor.actor, { name: `pg-via-${via}` });
      await ctx.daemon.services.ports.allocate(setupActor, { project: `pg-via-${via}`, service: 'api' });
      return { project: `pg-via-${via}` };
    },
    // The service's port is in each project's own block.
    normalise: (o) => ({ ...o, holdings: (o.holdings as Array<{ domain: string; sample: string[] }>).map((h) => ({ ...h, sample: h.sample.map((s) => s.replace(/:\d+$/, ':<port>')) })) }),
  },
  update_project: {
    async input(via) {
      await addProject(ctx.daemon.services, setupActor.actor, { name: `pu-via-${via}` });
      return { project: `pu-via-${via}`, description: 'changed', directory: `/srv/parity/via-${via}` };
    },
  },
});
