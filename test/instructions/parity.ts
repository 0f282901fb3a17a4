// Parity cases of the instructions domain: see test/parity/harness.ts. Each interface works on
// its own project (`<prefix>-via-<interface>`) with its own checkout under the scratch folder,
// so paths and names differ only in the interface's name, which the harness removes.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setupActor, type Iface, type Json, type ParityCases, type ParityContext } from '../parity/harness.js';

/** A project with a checkout, the instructions root initialised; answers the project's name. */
async function checkedOut(ctx: ParityContext, prefix: string, via: Iface): Promise<string> {
  const name = `${prefix}-via-${via}`;
  const directory = join(ctx.scratch, 'projects', name);
  await mkdir(directory, { recursive: true });
  await ctx.daemon.services.instructions.init(setupActor.actor);
  await ctx.daemon.services.projects.add(setupActor.actor, { name, directory });
  return name;
}

const regenerate = (ctx: ParityContext, project: string) => ctx.daemon.services.instructions.regenerate(setupActor.actor, { project, all: false, onHandEdit: 'refuse' });

export const instructionsParity: ParityCases = (ctx) => ({
  init_instructions: {
    input: () => ({}),
    // The first call creates the starter files and the others find them: compare the files named.
    normalise: (o) => ({ root: o.root, files: [...(o.created as string[]), ...(o.kept as string[])].sort() }),
    check: (outputs) => assert.ok(outputs.slice(1).every((o) => (o.created as string[]).length === 0)),
  },
  regenerate_instructions: {
    input: async (via) => ({ project: await checkedOut(ctx, 'ir', via) }),
  },
  check_instructions: {
    async input(via) {
      const project = await checkedOut(ctx, 'ic', via);
      await regenerate(ctx, project);
      return { project };
    },
    check: (outputs) => assert.ok(outputs.every((o) => o.ok === true)),
  },
  diff_instructions: {
    // Regenerated, then given its own layer: the diff is that file's lines (the port range, which
    // differs between the three projects, is outside the hunk).
    async input(via) {
      const project = await checkedOut(ctx, 'id', via);
      await regenerate(ctx, project);
      await writeLayer(ctx, project, 'Run the tests before every commit.\n');
      return { project };
    },
    check: (outputs) => outputs.forEach((o) => assert.match(o.patch as string, /^\+Run the tests before every commit\.$/m)),
    // The block's hash covers each project's own name and port range.
    normalise: (o) => ({ ...o, patch: (o.patch as string).replace(/sha256=[0-9a-f]{64}/g, 'sha256=<hash>') }),
  },
  list_instruction_layers: {
    async input(via) {
      const project = await checkedOut(ctx, 'il', via);
      await writeLayer(ctx, project, 'Own text.\n');
      return { project };
    },
  },
  write_instruction_layer: {
    input: async (via) => ({ layer: 'project', project: await checkedOut(ctx, 'iw', via), name: 'notes.md', text: 'Deploy with make deploy.\n' }),
    // The CLI words: layer and name as arguments, the text from a file.
    async cliArgs(input: Json) {
      const file = join(ctx.scratch, 'layer-notes.md');
      await writeFile(file, String(input.text));
      return ['instructions', 'write', 'project', 'notes.md', file, '--project', String(input.project)];
    },
  },
  write_mcp_config: {
    input: async (via) => ({ project: await checkedOut(ctx, 'im', via) }),
  },
});

function writeLayer(ctx: ParityContext, project: string, text: string) {
  return ctx.daemon.services.instructions.writeLayer(setupActor.actor, { layer: 'project', project, name: 'own.md', text });
}
