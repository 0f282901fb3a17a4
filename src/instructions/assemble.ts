// One project's instructions: its layers in order, placeholders filled with its live facts,
// and the managed files they go into (CLAUDE.md, or AGENTS.md plus a CLAUDE.md importing it).
import { invalidInput } from '../core/errors.js';
import { blockBody } from './block.js';
import { layersFor, type LayerFile, type SharedLayers } from './layers.js';
import { renderWithFacts, type Facts, type FactLines } from './placeholders.js';

/** What the engine needs to know about a project; the projects domain owns the rest. */
export interface InstructionProject {
  name: string;
  directory: string;
  isMeta: boolean;
  /**
   * Also for agents other than Claude Code: the instructions go into AGENTS.md, and CLAUDE.md's
   * block only imports it (`@AGENTS.md`), so the text exists once. False removes a block
   * AGENTS.md still has; undefined (never chosen) keeps one that is there (see planProject).
   */
  agentsMd?: boolean;
}

/** The files regenerate_instructions writes at a project's directory. */
export const MANAGED_FILES = ['CLAUDE.md', 'AGENTS.md'] as const;
export type ManagedFileName = (typeof MANAGED_FILES)[number];

export interface ManagedOutput {
  file: ManagedFileName;
  /** The layer files it was made from, as `core/10-ports.md`. */
  sources: string[];
  /** The block body (see block.ts), with `\n` line ends. */
  body: string;
  /** Its lines that show live facts, each with where the fact is changed. */
  factLines: FactLines;
}

export interface Assembly {
  outputs: ManagedOutput[];
  layers: LayerFile[];
}

export async function assemble(shared: SharedLayers, project: InstructionProject, facts: Facts): Promise<Assembly> {
  const read = await layersFor(shared, project);
  if (read.problems.length > 0) throw invalidInput(`layer files could not be used: ${read.problems.join('; ')}`, { problems: read.problems });
  const { texts, factLines } = renderWithFacts(read.files, project, facts);
  const text = texts.map(tidy).filter((t) => t !== '').join('\n\n');
  const sources = read.files.map((f) => f.source);
  const body = blockBody(project.name, text);
  const outputs: ManagedOutput[] = project.agentsMd
    ? [
        { file: 'AGENTS.md', sources, body, factLines },
        // Claude Code expands an @path on a line of its own (not in code), up to 5 levels deep.
        { file: 'CLAUDE.md', sources, body: blockBody(project.name, '@AGENTS.md'), factLines: new Map() },
      ]
    : [{ file: 'CLAUDE.md', sources, body, factLines }];
  return { outputs, layers: read.files };
}

/**
 * Trailing spaces dropped and blank lines trimmed at both ends: an editor that trims
 * whitespace on save must not turn a generated block into a "hand edit".
 */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '');
}
