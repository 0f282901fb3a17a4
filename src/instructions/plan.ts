// Desired state against the files on disk, for one project: what regeneration would write and
// why, before anything is written (the same plan serves regenerate, check and diff).
import { lstat, readFile } from 'node:fs/promises';
import { invalidInput } from '../core/errors.js';
import { assemble, type InstructionProject, type ManagedFileName, type ManagedOutput } from './assemble.js';
import { findBlock, findUnmarkedBody, isHandEdited, placeBlock, placeOverUnmarked, removeBlock, renderBlock, type FoundBlock } from './block.js';
import { addedRuns } from './line-diff.js';
import { describingFsErrors } from '../core/fs-errors.js';
import { realDirectory, resolveInside, type ResolvedFile } from '../core/inside.js';
import type { SharedLayers } from './layers.js';
import { lintEmpty, lintLength, lintRepeats } from './lint.js';
import type { Facts } from './placeholders.js';
import { utf8Text } from '../core/utf8.js';
import { clipped } from '../core/clip.js';
import type { WrittenBlocks } from './written-blocks.js';

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
  /** hand-edited: the hash its begin marker records, of the body it was generated with. */
  recordedHash?: string;
  /** The block is removed and nothing else was in the file: regeneration deletes it. */
  deletes?: boolean;
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
  /** The bodies written before, to find one whose markers were deleted. */
  blocks: Pick<WrittenBlocks, 'bodies'>;
}

export async function planProject(inputs: PlanInputs, project: InstructionProject): Promise<ProjectPlan> {
  // The directory first: a missing one is the clearest error, before facts or layers.
  await realDirectory(project.directory, 'project directory');
  const agents = project.agentsMd === true ? undefined : await agentsBlock(project.directory);
  // No choice recorded (a project added again, a database copied): a block in its AGENTS.md says it was chosen.
  const agentsMd = project.agentsMd ?? agents !== undefined;
  const assembly = await assemble(inputs.shared, { ...project, agentsMd }, await inputs.facts(project));
  const files = await Promise.all(
    assembly.outputs.map(async (output) => planFile(await resolveInside(project.directory, output.file, 'project directory'), output, () => inputs.blocks.bodies(project.name, output.file))),
  );
  // Turned off: the block goes after CLAUDE.md has the text again, so nothing imports a file without it.
  if (!agentsMd && agents) files.push(await planRemoval(agents, { ...assembly.outputs[0]!, file: 'AGENTS.md' }));
  // AGENTS.md counts even when it is not written: with it off, its block is taken out again by the next run.
  // One that cannot be resolved (a link out of the checkout) is the project's own, as agentsBlock says.
  const agentsFile = files.some((f) => f.file === 'AGENTS.md') ? undefined : await resolveInside(project.directory, 'AGENTS.md', 'project directory').catch(() => undefined);
  refuseOneFileTwice([...files.map((f) => f.target), ...(agentsFile ? [agentsFile] : [])]);
  const warnings = [...lintEmpty(assembly.layers), ...lintRepeats(assembly.layers), ...files.flatMap((f) => lintLength(f.target.shown, f.after ?? f.before))];
  return { project, files, warnings };
}

/**
 * CLAUDE.md and AGENTS.md that are one file (a link from one to the other): each gets its own
 * text, so every run would write one over the other, and a check would never find them current.
 */
function refuseOneFileTwice(targets: ResolvedFile[]): void {
  const [first, second] = targets.filter((t, i) => targets.some((u, j) => j !== i && u.path === t.path));
  if (!first || !second) return;
  throw invalidInput(
    `${first.shown} and ${second.shown} are one file (${first.path}): a link joins them, and each is written with its own text. ` +
      'Make CLAUDE.md a file of its own; to give other agents the same instructions, regenerate with agentsMd: true, and CLAUDE.md imports AGENTS.md',
    { path: first.path },
  );
}

interface AgentsBlock {
  target: ResolvedFile;
  text: string;
  found: FoundBlock & { kind: 'block' };
}

/**
 * The managed block of a project's AGENTS.md when AGENTS.md is not chosen, if it has one. A file
 * that cannot be read here (not UTF-8, a link out of the checkout) holds no block the supervisor
 * wrote, and is the project's own: it must not fail the project.
 */
async function agentsBlock(directory: string): Promise<AgentsBlock | undefined> {
  try {
    const target = await resolveInside(directory, 'AGENTS.md', 'project directory');
    if (!target.stats) return undefined;
    const text = utf8Text(await readFile(target.path));
    const found = text === undefined ? undefined : findBlock(text);
    return found?.kind === 'block' ? { target, text: text!, found } : undefined;
  } catch {
    return undefined;
  }
}

async function planFile(target: ResolvedFile, output: ManagedOutput, written: () => Promise<string[]>): Promise<FilePlan> {
  const before = target.stats ? await readText(target) : '';
  const base = { file: output.file, target, before, output };
  const found = findBlock(before);
  if (found.kind === 'malformed') return { ...base, state: 'malformed', reason: `${target.shown}: ${found.reason}` };
  if (found.kind === 'none' && target.stats) {
    const unmarked = findUnmarkedBody(before, await written());
    if (unmarked) {
      const reason = `the block's markers were deleted, and its text is still there as written (lines ${unmarked.lines[0]}–${unmarked.lines[1]}): regenerating puts the block back in its place, not a second copy on top`;
      return { ...base, state: 'missing', reason, after: placeOverUnmarked(before, unmarked, output.sources, output.body) };
    }
  }
  const after = placeBlock(before, found, output.sources, output.body);
  if (found.kind === 'none') {
    // "missing" is the block: a file of the project's own without one is not a file missing.
    const reason = target.stats ? "the file has no supervisor block yet (regenerating adds one on top, keeping the file's text)" : 'no such file yet';
    return { ...base, state: 'missing', reason, after };
  }
  if (before.slice(found.start, found.end) === renderBlock(output.sources, output.body, found.eol)) return { ...base, state: 'current', after };
  return changedBlock(base, found, after) ?? { ...base, state: 'stale', reason: staleReason(target.shown, found.body, output.body), after };
}

/**
 * Why a block is stale, in a line: the first line it would lose and the first it would gain
 * (a port, the endpoint, a layer's sentence), so a check says what moved without a diff.
 */
function staleReason(shown: string, was: string, now: string): string {
  const next = 'diff_instructions shows the change, regenerate_instructions writes it';
  if (was === now) return `${shown}: its marker lists other layer files than there are now (the text is the same); ${next}`;
  const { added, removed } = addedRuns(was, now);
  const gained = added.flatMap((run) => run.split('\n'));
  const first = (what: 'lost' | 'gained', line: string | undefined) => (line === undefined ? `no line ${what}` : `first line ${what} '${clipped(line, 80)}'`);
  const count = removed.length + gained.length;
  // Two separate firsts, not a replacement: they may come from different places in the block.
  return `${shown}: the layers or facts changed since it was written (${count} line${count === 1 ? '' : 's'}; ${first('lost', removed[0])}, ${first('gained', gained[0])}); ${next}`;
}

/**
 * AGENTS.md turned off with its block still there: the block is stale until regeneration
 * removes it (a hand edit in it is kept or refused like any other). `output` is the text the
 * block would hold if it were on, to tell a hand edit from a generated block.
 */
async function planRemoval({ target, text, found }: AgentsBlock, output: ManagedOutput): Promise<FilePlan> {
  const after = removeBlock(text, found);
  // A file reached through a link is emptied, not deleted: the link would be left pointing at nothing.
  const deletes = (after === '' || after === '\uFEFF') && !(await lstat(target.shown)).isSymbolicLink();
  const base = { file: output.file, target, before: text, output, ...(deletes ? { deletes } : {}) };
  const reason = `${target.shown}: AGENTS.md is turned off for this project (agentsMd false), so regeneration removes its block`;
  return changedBlock(base, found, after) ?? { ...base, state: 'stale', reason, after };
}

/** A block whose body was edited by hand since it was generated; a hand edit that happens to equal the new text loses nothing when replaced. */
function changedBlock(base: Omit<FilePlan, 'state'>, found: FoundBlock & { kind: 'block' }, after: string): FilePlan | undefined {
  if (found.body === base.output.body || !isHandEdited(found)) return undefined;
  return { ...base, state: 'hand-edited', after, editedBody: found.body, markers: { lines: found.lines, hashed: found.recordedHash !== undefined }, recordedHash: found.recordedHash };
}

/** The file as text, refused when it is not UTF-8: rewriting it would change bytes outside the block. */
async function readText(target: ResolvedFile): Promise<string> {
  const bytes = await describingFsErrors('read', target.shown, () => readFile(target.path));
  const text = utf8Text(bytes);
  if (text === undefined) throw invalidInput(`${target.shown} is not UTF-8 text; convert it to UTF-8 so its own text can be kept byte for byte`, { path: target.shown });
  return text;
}
