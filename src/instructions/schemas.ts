import { z } from 'zod';
import { projectName } from '../core/names.js';
import { pageOutput } from '../core/page.js';
import { LAYERS } from './layers.js';

export const project = projectName.describe('Project name');
export const someProject = projectName.optional().describe('One project (default: all)');

const path = z.string().describe('Absolute path on this host');
const warnings = z.array(z.string()).describe('Things that work but cost context (long files, repeated paragraphs)');
const written = z.enum(['created', 'updated', 'unchanged']).describe('unchanged: nothing was written');

export const layerInput = z.enum(LAYERS).describe('core: all projects, meta: meta only, project: one');

export const regenerateOutput = z.object({
  ok: z.boolean().describe('false when a project was refused or failed (nothing written there)'),
  counts: z.object({ updated: z.number().int(), unchanged: z.number().int(), refused: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
  results: z.array(
    z.object({
      project: z.string(),
      status: z.enum(['updated', 'unchanged', 'refused', 'failed', 'skipped']).describe('refused: a hand edit or broken markers (nothing written); skipped: no directory'),
      files: z.array(path).optional().describe('Files written'),
      backups: z.array(path).optional().describe('Copies of hand-edited files, made before overwriting'),
      adopted: path.optional().describe('The project layer file that received the hand edits'),
      reason: z.string().optional().describe('Why it was refused, failed or skipped, and what to do'),
      warnings: warnings.optional(),
    }),
  ),
});

const fileState = z.enum(['current', 'stale', 'missing', 'hand-edited', 'malformed']);

export const checkOutput = z.object({
  ok: z.boolean().describe('False when any block is not current or a project failed'),
  results: z.array(
    z.object({
      project: z.string(),
      state: z.enum([...fileState.options, 'failed', 'skipped']).describe('The worst state of its files'),
      files: z.array(z.object({ path, state: fileState, reason: z.string().optional() })),
      reason: z.string().optional().describe('Why it could not be checked'),
      warnings,
    }),
  ),
});

export const diffOutput = z.object({
  patch: z.string().describe("Every project's unified diff (paths relative to its directory), each after a `# <project> (<directory>)` line"),
  results: z.array(
    z.object({
      project: z.string(),
      changes: z.boolean().describe('True when regeneration would write'),
      refused: z.string().optional().describe('Regeneration would refuse without adopt or overwrite (the patch shows overwrite)'),
      reason: z.string().optional().describe('Why no diff could be made'),
    }),
  ),
  failed: z.boolean().describe('True when a diff could not be made for some project (see reason)'),
});

export const layersOutput = z.object({
  root: z.string().describe('The instructions root; a project token sees <instructions root>'),
  files: z.array(z.object({ layer: z.enum(LAYERS), name: z.string(), path, lines: z.number().int(), bytes: z.number().int() })).describe('In assembly order'),
  problems: z.array(z.string()).describe('Files or folders that could not be read'),
  ...pageOutput,
});

export const writtenOutput = z.object({ path, status: written });

export const mcpConfigOutput = writtenOutput.extend({
  server: z.string().describe('Its key under mcpServers'),
  url: z.string().describe("The project's MCP endpoint"),
});

export const initOutput = z.object({
  root: path,
  created: z.array(path),
  kept: z.array(path).describe('Starter files that existed and were left as they are'),
});
