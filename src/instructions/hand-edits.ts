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
import { lineChanges, type LineChange } from './line-diff.js';
import { escapePlaceholders } from './placeholders.js';
import { contentHash } from './block.js';
import type { WrittenBlocks } from './written-blocks.js';
import type { FilePlan } from './plan.js';
import { createUniqueFile } from './unique-file.js';
import { clipped } from '../core/clip.js';

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
export async function keepHandEdits(clock: Clock, project: InstructionProject, edited: FilePlan[], how: Exclude<OnHandEdit, 'refuse'>, blocks: WrittenBlocks): Promise<KeptEdits> {
  if (how === 'adopt') return adoptEdits(clock, project, edited, blocks);
  const backups: string[] = [];
  for (const plan of edited) backups.push(await backupFile(clock, plan));
  return { backups, warnings: [] };
}

/**
 * The body the edited block was generated with: the text the person changed. It is the body
 * generated now when the layers and facts have not changed since (the marker's hash says so),
 * else the one on record; undefined when neither (a block written before bodies were recorded).
 */
async function generatedBody(project: InstructionProject, plan: FilePlan, blocks: WrittenBlocks): Promise<string | undefined> {
  const hash = plan.recordedHash;
  if (hash === undefined) return undefined;
  if (contentHash(plan.output.body) === hash) return plan.output.body;
  return blocks.body(project.name, plan.file, hash);
}

/**
 * Writes the lines added by hand to `.claude-specific/adopted-<date>.md` (`adopted-<date>_<hhmmss>.md`
 * after the day's first). Lines are compared with the text the block was generated with, so
 * layer text changed since is neither taken for the person's nor reported removed by hand.
 * Without that text on record they are compared with what the block would contain now: the
 * edited file is kept as a backup, and the answer says to review both.
 */
async function adoptEdits(clock: Clock, project: InstructionProject, edited: FilePlan[], blocks: WrittenBlocks): Promise<KeptEdits> {
  const result: KeptEdits = { backups: [], warnings: [] };
  const added: string[] = [];
  const guessed: string[] = [];
  for (const plan of edited) {
    const base = await generatedBody(project, plan, blocks);
    const changes = lineChanges(base ?? plan.output.body, plan.editedBody ?? '');
    // A line showing a live fact (a port, a secret path), changed by hand: a copy in the project's layer
    // would keep the old value for good beside the fact's line. Not adopted; the fact is changed where it lives.
    const factEdits = changes.filter((c) => c.added.length > 0 && c.removed.some((line) => plan.output.factLines.has(line)));
    // A line the block is given anyway (a layer now says the same, or an adoption cut short already
    // holds it) is not adopted twice. Blank lines around an addition are layout, not instructions:
    // files are joined with one.
    const given = new Set(plan.output.body.split('\n').filter((line) => line.trim() !== ''));
    const own = (lines: string[]) => lines.filter((line) => !given.has(line)).join('\n');
    const runs = changes.filter((c) => c.added.length > 0 && !factEdits.includes(c)).map((c) => own(c.added).replace(/^(?:[ \t]*\n)+|(?:\n[ \t]*)+$/g, ''));
    added.push(...runs.filter((run) => run.trim() !== ''));
    if (base === undefined) {
      // Compared with a guess, a difference may be the person's or the layers': the file is kept whole.
      guessed.push(await backupFile(clock, plan));
      continue;
    }
    // A line the person took out comes back only if the layers still give it.
    const removed = changes.flatMap((c) => c.removed).filter((line) => line.trim() !== '' && given.has(line));
    const back = removed.filter((line) => !plan.output.factLines.has(line)).length;
    if (back === 0 && factEdits.length === 0) continue;
    const backup = await backupFile(clock, plan);
    result.backups.push(backup);
    if (back > 0) {
      result.warnings.push(
        `${back} generated line(s) removed by hand from ${plan.target.shown} come back: a project layer can only add text; change the layer they come from (the edited file is in ${backup})`,
      );
    }
    for (const edit of factEdits) result.warnings.push(factEditWarning(plan, edit, backup));
  }
  if (added.length > 0) result.adopted = await writeAdopted(clock, project, added);
  if (guessed.length > 0) {
    result.backups.push(...guessed);
    result.warnings.push(
      'the text the block was generated with is not on record (written by an earlier version, or older than the bodies kept), so the edit was compared with what the layers and facts give now: ' +
        `${result.adopted ? `lines that changed since may be in ${result.adopted}, and ` : ''}lines removed by hand come back; the edited file is kept in ${guessed.join(', ')}: review ${result.adopted ? 'them' : 'it'}`,
    );
  }
  return result;
}

/** Why a hand-changed fact line was not adopted, and where the fact is changed. */
function factEditWarning(plan: FilePlan, edit: LineChange, backup: string): string {
  const line = edit.removed.find((l) => plan.output.factLines.has(l))!;
  const shown = (lines: string[]) => JSON.stringify(clipped(lines.join(' / '), FACT_SHOWN));
  return (
    `${shown([line])} in ${plan.target.shown} shows a live fact and was changed by hand to ${shown(edit.added)}: not adopted, as a copy would keep that value for good; ` +
    `the block shows the fact as it is, so change it with ${plan.output.factLines.get(line)!} (the edited file is in ${backup})`
  );
}

/** How much of a changed fact line a warning quotes. */
const FACT_SHOWN = 120;

async function writeAdopted(clock: Clock, project: InstructionProject, added: string[]): Promise<string> {
  const now = clock.now().toISOString();
  const date = now.slice(0, 10);
  // Checked like any write into the project: .claude-specific/ may be a link out of it.
  const probe = await resolveInside(project.directory, join(LAYER_DIRS.project, `adopted-${date}.md`), 'project directory');
  const dir = dirname(probe.path);
  await describingFsErrors('create', dir, () => makeDirectory(dir, CHECKOUT_DIR_MODE));
  // The text was rendered output: braces in it are literal, not placeholders.
  const text = `${escapePlaceholders(added.join('\n\n'))}\n`;
  const first = join(dir, `adopted-${date}.md`);
  if (await describingFsErrors('create', first, () => createFileExclusive(first, text, CHECKOUT_FILE_MODE))) return first;
  // Layers are assembled in name order: a later adoption that day is named by its time after "_",
  // which sorts after the day's first ("_" after ".") and after the earlier ones, where "-2" sorted before.
  return createUniqueFile(dir, `adopted-${date}_${now.slice(11, 19).replace(/:/g, '')}`, '.md', text, CHECKOUT_FILE_MODE);
}
