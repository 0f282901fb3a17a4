import { z } from 'zod';
import { IDEMPOTENT_WRITE, operationsOf, READ } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { pageInput } from '../core/page.js';
import type { OnHandEdit } from './hand-edits.js';
import { checkOutput, diffOutput, initOutput, layerInput, layersOutput, mcpConfigOutput, project, regenerateOutput, someProject, writtenOutput } from './schemas.js';
import type { InstructionsService } from './service.js';

const operation = operationsOf<InstructionsService>('instructions');

/** --adopt and --overwrite are two CLI flags, so two booleans; the engine takes one choice. */
function onHandEdit(input: { adopt: boolean; overwrite: boolean }): OnHandEdit {
  if (input.adopt && input.overwrite) throw invalidInput('choose adopt or overwrite, not both', { fields: ['adopt', 'overwrite'] });
  return input.adopt ? 'adopt' : input.overwrite ? 'overwrite' : 'refuse';
}

export const instructionOperations = [
  operation({
    name: 'regenerate_instructions',
    title: 'Regenerate instructions',
    description: "Rebuild CLAUDE.md's managed block from layers and live facts (one project or all); the project's own text is kept. Hand edits need adopt or overwrite.",
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/instructions/regenerate' },
    cli: { command: ['instructions', 'regenerate'], args: ['project'], exactlyOne: ['project', 'all'], failWhen: { field: 'ok', values: [false] } },
    input: z.object({
      project: project.optional(),
      all: z.boolean().default(false).describe('Every project'),
      adopt: z.boolean().default(false).describe('Move hand edits to the project layer'),
      overwrite: z.boolean().default(false).describe('Replace hand edits (backup kept)'),
      agentsMd: z.boolean().optional().describe('Also write AGENTS.md (remembered; agentsMd: false ends it)'),
    }),
    output: regenerateOutput,
    handler: ({ svc, principal, progress }, input) =>
      svc.regenerate(principal.actor, { project: input.project, all: input.all, onHandEdit: onHandEdit(input), agentsMd: input.agentsMd }, progress),
  }),
  operation({
    name: 'check_instructions',
    title: 'Check instructions',
    description: 'Instruction blocks that are stale (layers, ports or secrets changed), hand-edited or missing; ok=false if any.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/instructions/check' },
    cli: { command: ['instructions', 'check'], args: ['project'], everyWithout: 'project', failWhen: { field: 'ok', values: [false] } },
    input: z.object({ project: someProject }),
    output: checkOutput,
    handler: ({ svc, principal }, input) => svc.check(principal, input.project),
  }),
  operation({
    name: 'diff_instructions',
    title: 'Diff instructions',
    description: 'Unified diff of what regenerate_instructions would write.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/instructions/diff' },
    cli: { command: ['instructions', 'diff'], args: ['project'], everyWithout: 'project', print: 'patch', failWhen: { field: 'failed', values: [true] } },
    input: z.object({ project: someProject }),
    output: diffOutput,
    handler: ({ svc, principal }, input) => svc.diff(principal, input.project),
  }),
  operation({
    name: 'list_instruction_layers',
    title: 'List instruction layers',
    description: 'Layer files CLAUDE.md is built from, in order (with project: its own too).',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/instructions/layers' },
    cli: { command: ['instructions', 'layers'], args: ['project'] },
    input: z.object({ project: project.optional(), ...pageInput }),
    output: layersOutput,
    handler: ({ svc, principal }, input) => svc.layers(principal, input),
  }),
  operation({
    name: 'write_instruction_layer',
    title: 'Write instruction layer',
    description: 'Write or replace a layer file; regenerate_instructions then propagates it.',
    access: 'admin',
    annotations: { ...IDEMPOTENT_WRITE, destructiveHint: true },
    rest: { method: 'PUT', path: '/instructions/layer' },
    cli: { command: ['instructions', 'write'], args: ['layer', 'name', 'text'], stdin: 'text', files: ['text'] },
    input: z.object({
      layer: layerInput,
      name: z.string().max(100).describe('e.g. 20-ports.md; files sort by name'),
      // Its size is checked where it is written, with an error that says why (64 KiB).
      text: z
        .string()
        .refine((text) => text.trim() !== '', 'is empty: a layer without text would take its section out of every project at the next regeneration; to take a layer out, delete its file (list_instruction_layers shows where it is)')
        .describe('Markdown; placeholders like {{project.name}}'),
      project: project.optional().describe('For layer project'),
    }),
    output: writtenOutput,
    handler: ({ svc, principal }, input) => svc.writeLayer(principal.actor, input),
  }),
  operation({
    name: 'write_mcp_config',
    title: 'Write .mcp.json',
    description: "Point the project's .mcp.json at its endpoint, token as ${SUPERVISOR_TOKEN}; other servers kept.",
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'PUT', path: '/instructions/mcp-config' },
    cli: { command: ['instructions', 'mcp-config'], args: ['project'] },
    input: z.object({ project }),
    output: mcpConfigOutput,
    handler: ({ svc, principal }, input) => svc.writeMcpConfig(principal.actor, input.project),
  }),
  operation({
    name: 'init_instructions',
    title: 'Init instructions',
    description: 'Create the instructions root with starter layers (existing files kept).',
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/instructions/init' },
    cli: { command: ['instructions', 'init'] },
    input: z.object({}),
    output: initOutput,
    handler: ({ svc, principal }) => svc.init(principal.actor),
  }),
];
