// What happens to text a person wrote inside a managed block before it is regenerated:
// overwrite keeps the whole file as a backup; adopt moves the added lines into the project's
// own layer, where the next generation includes them once.
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../core/clock.js';
import type { InstructionProject } from './assemble.js';
import { createFileExclusive, makeDirectory } from '../core/files.js';
import { describingFsErrors } from '../core/fs-errors.js';
import { resolveInside } from '../core/inside.js';
import { LAYER_DIRS } from './layers.js';
import { CHECKOUT_DIR_MODE, CHECKOUT_FILE_MODE } from './modes.js';
import { addedRuns } from './line-diff.js';
import type { FilePlan } from './plan.js';
import { createUniqueFile } from './unique-file.js';


/** `CLAUDE.md.20260101-120000.bak` next to the file (its real location when it is a link). */
async function backupFile(clock: Clock, plan: FilePlan): Promise<string> {
  const stamp = clock.now().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const mode = plan.target.stats ? plan.target.stats.mode & 0o777 : CHECKOUT_FILE_MODE;
  return createUniqueFile(dirname(plan.target.path), `${basename(plan.target.path)}.${stamp}`, '.bak', plan.before, mode);
}

/** What to do with a block edited by hand: refuse (the default), adopt the edit, or overwrite it with a backup. */
export type OnHandEdit = 'refuse' | 'adopt' | 'overwrite';

export interface KeptEdits {
  /** The new project layer file, when adopt found added lines. */
  adopted?: string;
  /** overwrite: every edited file; adopt: files with lines removed by hand (a layer cannot remove them). */
  backups: string[];
  warnings: string[];
}

/** Keeps the hand edits of `edited` the way `how` says, before their blocks are regenerated. */
export async function keepHandEdits(clock: Clock, project: InstructionProject, edited: FilePlan[], how: Exclude<OnHandEdit, 'refuse'>): Promise<KeptEdits> {
  if (how === 'adopt') return adoptEdits(clock, project, edited);
  const backups: string[] = [];
  for (const plan of edited) backups.push(await backupFile(clock, plan));
  return { backups, warnings: [] };
}

/**
 * Writes the lines added by hand to `.claude-specific/adopted-<date>.md` (`adopted-<date>_<hhmmss>.md` after the day's first). Lines are compared
 * with what the block would contain now, so when layers also changed since the edit, their old
 * text can come along: the file is named in the result for a person to review.
 */
async function adoptEdits(clock: Clock, project: InstructionProject, edited: FilePlan[]): Promise<KeptEdits> {
  const result: KeptEdits = { backups: [], warnings: [] };
  const added: string[] = [];
  for (const plan of edited) {
    const diff = addedRuns(plan.output.body, plan.editedBody ?? '');
    // Blank lines around an addition are layout, not instructions: files are joined with one.
    added.push(...diff.added.map((run) => run.replace(/^(?:[ \t]*\n)+|(?:\n[ \t]*)+$/g, '')).filter((run) => run.trim() !== ''));
    if (diff.removedLines === 0) continue;
    const backup = await backupFile(clock, plan);
    result.backups.push(backup);
    result.warnings.push(
      `${diff.removedLines} generated line(s) removed by hand from ${plan.target.shown} come back: a project layer can only add text; change the layer they come from (the edited file is in ${backup})`,
    );
  }
  if (added.length > 0) result.adopted = await writeAdopted(clock, project, added);
  return result;
}

async function writeAdopted(clock: Clock, project: InstructionProject, added: string[]): Promise<string> {
  const now = clock.now().toISOString();
  const date = now.slice(0, 10);
  // Checked like any write into the project: .claude-specific/ may be a link out of it.
  const probe = await resolveInside(project.directory, join(LAYER_DIRS.project, `adopted-${date}.md`), 'project directory');
  const dir = dirname(probe.path);
  await describingFsErrors('create', dir, () => makeDirectory(dir, CHECKOUT_DIR_MODE));
  // The text was rendered output: braces in it are literal, not placeholders.
  const text = `${added.join('\n\n').replace(/\{\{/g, '\\{{')}\n`;
  const first = join(dir, `adopted-${date}.md`);
  if (await describingFsErrors('create', first, () => createFileExclusive(first, text, CHECKOUT_FILE_MODE))) return first;
  // Layers are assembled in name order: a later adoption that day is named by its time after "_",
  // which sorts after the day's first ("_" after ".") and after the earlier ones, where "-2" sorted before.
  return createUniqueFile(dir, `adopted-${date}_${now.slice(11, 19).replace(/:/g, '')}`, '.md', text, CHECKOUT_FILE_MODE);
}
