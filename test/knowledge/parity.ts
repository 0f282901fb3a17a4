// Parity cases of the knowledge domain: see test/parity/harness.ts.
import assert from 'node:assert/strict';
import { setupActor, type ParityCases } from '../parity/harness.js';

export const knowledgeParity: ParityCases = (ctx) => ({
  add_knowledge: {
    input: (via) => ({ project: 'meta', title: `Parity note via-${via}`, text: 'Parity notes are written three times.', tags: ['parity'] }),
    // Each call stores its own document.
    normalise: (o) => ({ ...o, id: typeof o.id }),
  },
  delete_knowledge: {
    async input(via) {
      const { id } = await ctx.daemon.services.knowledge.add(setupActor, { project: 'meta', title: 'Parity doomed note', text: `Deleted through ${via}.` });
      return { id };
    },
    // Each call deletes its own document.
    normalise: (o) => ({ ...o, id: typeof o.id }),
  },
  search_knowledge: {
    setup: async () => {
      await ctx.daemon.services.knowledge.add(setupActor, { project: 'meta', title: 'Parity search', text: 'The quokka is the happiest marsupial.' });
    },
    input: () => ({ query: 'happy quokka', project: 'meta' }),
    check: (outputs) => assert.equal((outputs[0]!.results as Array<{ title: string }>)[0]?.title, 'Parity search'),
  },
});
