// Desired state against the files on disk, for one project: what regeneration would write and
// why, before anything is written (the same plan serves regenerate, check and diff).
import { readFile } from 'node:fs/promises';
import { invalidInput } from '../core/errors.js';
import { assemble, type InstructionProject, type ManagedFileName, type ManagedOutput } from './assemble.js';
import { findBlock, isHandEdited, placeBlock, renderBlock } from './block.js';
import { describingFsErrors } from '../core/fs-errors.js';
import { realDirectory, resolveInside, type ResolvedFile } from '../core/inside.js';
import type { SharedLayers } from './layers.js';
import { lintLength, lintRepeats } from './lint.js';
import type { Facts } from './placeholders.js';
import { utf8Text } from '../core/utf8.js';

/**
 * current: the block is what would be generated now; stale: generated earlier, layers or facts
 * changed since; missing: no file or no block yet; hand-edited: the body no longer matches its
 * hash; malformed: markers missing or doubled, so the supervisor cannot tell what is its own.
 */
export type FileState = 'current' | 'stale' | 'missing' | 'hand-edited' | 'malformed';

export interface FilePlan {
  file: ManagedFileName;
  target: ResolvedFile;
  state: FileState;
  /** Why a file is malformed. */
  reason?: string;
  /** The file as it is ('' when absent). */
  before: string;
  /** The file regeneration would write; absent when malformed. */
  after?: string;
  /** What the block should contain now. */
  output: ManagedOutput;
  /** hand-edited: the body as found in the file. */
  editedBody?: string;
  /** hand-edited: the lines of its markers, and whether the begin marker carries a hash (every one the supervisor writes does). */
  markers?: { lines: [number, number]; hashed: boolean };
}

/**
 * Why a file counts as edited by hand. Markers without a hash were never written as they are:
 * a hash removed, or markers quoted in the project's own text (an example), which adopting or
 * overwriting would take for the block.
 */
export function handEditReason(file: Pick<FilePlan, 'markers'>): string {
  const where = file.markers ? ` (markers on lines ${file.markers.lines[0]} and ${file.markers.lines[1]})` : '';
  if (file.markers?.hashed === false) {
    return (
      `has block markers${where} without the sha256= the supervisor writes into every block: its hash was removed, or the markers are quoted in the project's own text. ` +
      'If they are an example, put other text on their lines (wrap them in backticks): adopt or overwrite would take what is between them for the generated block'
    );
  }
  return `was edited by hand inside the managed block${where}`;
}

export interface ProjectPlan {
  project: InstructionProject;
  files: FilePlan[];
  warnings: string[];
}

export interface PlanInputs {
  shared: SharedLayers;
  facts: (project: InstructionProject) => Promise<Facts>;
}

export async function planProject(inputs: PlanInputs, project: InstructionProject): Promise<ProjectPlan> {
  // The directory first: a missing one is the clearest error, before facts or layers.
  await realDirectory(project.directory, 'project directory');
  const assembly = await assemble(inputs.shared, project, await inputs.facts(project));
  const files = await Promise.all(
    assembly.outputs.map(async (output) => planFile(await resolveInside(project.directory, output.file, 'project directory'), output)),
  );
  const warnings = [...lintRepeats(assembly.layers), ...files.flatMap((f) => lintLength(f.target.shown, f.after ?? f.before))];
  return { project, files, warnings };
}

async function planFile(target: ResolvedFile, output: ManagedOutput): Promise<FilePlan> {
  const before = target.stats ? await readText(target) : '';
  const base = { file: output.file, target, before, output };
  const found = findBlock(before);
  if (found.kind === 'malformed') return { ...base, state: 'malformed', reason: `${target.shown}: ${found.reason}` };
  const after = placeBlock(before, found, output.sources, output.body);
  if (found.kind === 'none') return { ...base, state: 'missing', after };
  if (before.slice(found.start, found.end) === renderBlock(output.sources, output.body, found.eol)) return { ...base, state: 'current', after };
  // A hand edit that happens to equal the new text loses nothing when replaced.
  if (found.body !== output.body && isHandEdited(found)) {
    return { ...base, state: 'hand-edited', after, editedBody: found.body, markers: { lines: found.lines, hashed: found.recordedHash !== undefined } };
  }
  return { ...base, state: 'stale', after };
}

/** The file as text, refused when it is not UTF-8: rewriting it would change bytes outside the block. */
async function readText(target: ResolvedFile): Promise<string> {
  const bytes = await describingFsErrors('read', target.shown, () => readFile(target.path));
  const text = utf8Text(bytes);
  if (text === undefined) throw invalidInput(`${target.shown} is not UTF-8 text; convert it to UTF-8 so its own text can be kept byte for byte`, { path: target.shown });
  return text;
}
