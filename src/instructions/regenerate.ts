// Regenerates the managed blocks of many projects in one call, with one result per project:
// updated, unchanged, refused (why) or failed (why). A failure in one project never stops
// the others; an unchanged project is not written at all (its files keep their mtime).
import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Clock } from '../core/clock.js';
import { removeStrayTempFiles, writeFileLike } from '../core/files.js';
import type { KeyedLock } from '../core/keyed-lock.js';
import type { InstructionProject } from './assemble.js';
import { forEachProject } from './each-project.js';
import { describingFsErrors } from '../core/fs-errors.js';
import { keepHandEdits, type OnHandEdit } from './hand-edits.js';
import { LAYER_DIRS, readSharedLayers, type SharedLayers } from './layers.js';
import { handEditReason, planProject, type FilePlan, type ProjectPlan } from './plan.js';
import { CHECKOUT_FILE_MODE } from './modes.js';
import type { WrittenBlocks } from './written-blocks.js';
import type { Facts } from './placeholders.js';

export interface InstructionsContext {
  /** Holds .supervisor-core/ and .supervisor-meta/. */
  root: string;
  /** The project's live facts (the database, once wired; tests inject them). */
  facts: (project: InstructionProject) => Promise<Facts>;
  clock: Clock;
  /**
   * Serialises work on one project directory within the process: a project's plan and its
   * writes happen under it, so two regenerations at once never write from the same stale read
   * (two adopts of one edit, a backup of a file the other call already replaced).
   */
  lock: KeyedLock;
  /** The body each block was last written with, which adopt compares a hand edit to. */
  blocks: WrittenBlocks;
}

export type RegenerateResult =
  | { project: string; status: 'updated'; files: string[]; backups: string[]; adopted?: string; warnings: string[] }
  | { project: string; status: 'unchanged'; warnings: string[] }
  | { project: string; status: 'refused'; reason: string; warnings: string[] }
  | { project: string; status: 'failed'; reason: string };

export type RegenerateStatus = RegenerateResult['status'];

export interface RegenerateReport {
  results: RegenerateResult[];
  counts: Record<RegenerateStatus, number>;
}

export async function regenerateInstructions(
  ctx: InstructionsContext,
  projects: InstructionProject[],
  options: { onHandEdit?: OnHandEdit; onResult?: (result: RegenerateResult) => void; among?: InstructionProject[] } = {},
): Promise<RegenerateReport> {
  const shared = await readSharedLayers(ctx.root);
  const onHandEdit = options.onHandEdit ?? 'refuse';
  const results = await forEachProject(
    projects,
    (project) => ctx.lock.run(resolve(project.directory), () => regenerateProject(ctx, shared, project, onHandEdit)),
    (project, reason): RegenerateResult => ({ project: project.name, status: 'failed', reason }),
    { onDone: options.onResult, among: options.among },
  );
  const counts: Record<RegenerateStatus, number> = { updated: 0, unchanged: 0, refused: 0, failed: 0 };
  for (const result of results) counts[result.status]++;
  return { results, counts };
}

async function regenerateProject(ctx: InstructionsContext, shared: SharedLayers, project: InstructionProject, onHandEdit: OnHandEdit): Promise<RegenerateResult> {
  const inputs = { shared, facts: ctx.facts, blocks: ctx.blocks };
  let plan = await planProject(inputs, project);
  // A write killed midway (kill -9) left its temp file in the checkout, where git shows it: of a
  // managed file, of its backup, or of an adopted edit.
  for (const file of plan.files) {
    const name = basename(file.target.path);
    await removeStrayTempFiles(dirname(file.target.path), (n) => n === name || (n.startsWith(`${name}.`) && n.endsWith('.bak')));
  }
  await removeStrayTempFiles(join(project.directory, LAYER_DIRS.project), (n) => /^adopted-.+\.md$/.test(n));
  const refusal = refusalOf(plan, onHandEdit);
  if (refusal) return { project: project.name, status: 'refused', reason: refusal, warnings: plan.warnings };

  const edited = plan.files.filter((f) => f.state === 'hand-edited');
  const kept = edited.length > 0 && onHandEdit !== 'refuse' ? await keepHandEdits(ctx.clock, project, edited, onHandEdit, ctx.blocks) : { backups: [], warnings: [] };
  if (kept.adopted) {
    // Again, now with the adopted file in the project layer.
    plan = await planProject(inputs, project);
    const refusedNow = refusalOf(plan, onHandEdit);
    if (refusedNow) return { project: project.name, status: 'refused', reason: refusedNow, warnings: [...kept.warnings, ...plan.warnings] };
  }
  // The hand-edited files were kept above, so they are rewritten along with the stale ones; one
  // edited again meanwhile (a person saving while this ran) is refused, not overwritten unkept.
  const editedBodies = new Map(edited.map((f) => [f.file, f.editedBody]));
  const changed = plan.files.find((f) => f.state === 'hand-edited' && editedBodies.has(f.file) && editedBodies.get(f.file) !== f.editedBody);
  if (changed) {
    return { project: project.name, status: 'refused', reason: `${changed.target.shown} was edited again while its edit was being kept; nothing more was written: run it again`, warnings: [...kept.warnings, ...plan.warnings] };
  }
  const toWrite = plan.files.filter((f) => f.state === 'stale' || f.state === 'missing' || (f.state === 'hand-edited' && editedBodies.has(f.file)));
  // Recorded before the write (and found current, as a block written by an older version is): a later
  // adopt compares a hand edit to it, also when this process dies between the write and the record.
  for (const file of plan.files) {
    if (!file.deletes && (file.state === 'current' || toWrite.includes(file))) await ctx.blocks.record(project.name, file.file, file.output.body);
  }
  for (const file of toWrite) await writePlanned(file);
  const warnings = [...kept.warnings, ...plan.warnings];
  if (toWrite.length === 0) return { project: project.name, status: 'unchanged', warnings };
  return {
    project: project.name,
    status: 'updated',
    files: toWrite.map((f) => f.target.shown),
    backups: kept.backups,
    ...(kept.adopted ? { adopted: kept.adopted } : {}),
    warnings,
  };
}

function refusalOf(plan: ProjectPlan, onHandEdit: OnHandEdit): string | undefined {
  const malformed = plan.files.find((f) => f.state === 'malformed');
  if (malformed) return malformed.reason;
  const edited = plan.files.find((f) => f.state === 'hand-edited');
  if (!edited || onHandEdit !== 'refuse') return undefined;
  return `${edited.target.shown} ${handEditReason(edited)}; nothing was written. Regenerate with adopt: true (moves the added text into ${LAYER_DIRS.project}/) or overwrite: true (keeps a backup), or undo the edit`;
}

/** Outputs are planned AGENTS.md first, so a CLAUDE.md importing it never points at nothing. */
async function writePlanned(file: FilePlan): Promise<void> {
  if (file.deletes) return describingFsErrors('remove', file.target.shown, () => rm(file.target.path, { force: true }));
  await describingFsErrors('write', file.target.shown, () => writeFileLike(file.target.path, file.after!, file.target.stats, CHECKOUT_FILE_MODE));
}
