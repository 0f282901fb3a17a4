// Read-only views of the same plan regeneration makes: check (is every block what it would be
// now?) and diff (what would regeneration change?). Facts are part of the generated text, so a
// changed port or secret makes the project's block stale.
import type { InstructionProject } from './assemble.js';
import { forEachProject } from './each-project.js';
import { readSharedLayers } from './layers.js';
import { unifiedDiff } from './line-diff.js';
import { handEditReason, planProject, type FileState, type ProjectPlan } from './plan.js';
import type { InstructionsContext } from './regenerate.js';

type ReadContext = Pick<InstructionsContext, 'root' | 'facts' | 'blocks'>;

export type CheckState = FileState | 'failed';

export interface CheckResult {
  project: string;
  /** The worst state of its files. */
  state: CheckState;
  files: Array<{ path: string; state: FileState; reason?: string }>;
  /** Why the project could not be checked. */
  reason?: string;
  warnings: string[];
}

/** Mildest first: a project's state is its worst file's. */
const SEVERITY: CheckState[] = ['current', 'missing', 'stale', 'hand-edited', 'malformed', 'failed'];

/** `ok` is false when any block is not current: what `--check` turns into a non-zero exit. */
export async function checkInstructions(ctx: ReadContext, projects: InstructionProject[], among?: InstructionProject[]): Promise<{ ok: boolean; results: CheckResult[] }> {
  const results = await eachPlan(ctx, { projects, among }, checkResult, (project, reason): CheckResult => ({ project: project.name, state: 'failed', files: [], reason, warnings: [] }));
  return { ok: results.every((r) => r.state === 'current'), results };
}

function checkResult(plan: ProjectPlan): CheckResult {
  const files = plan.files.map((f) => ({ path: f.target.shown, state: f.state, ...(f.reason ? { reason: f.reason } : {}) }));
  const state = files.reduce<CheckState>((worst, f) => (SEVERITY.indexOf(f.state) > SEVERITY.indexOf(worst) ? f.state : worst), 'current');
  return { project: plan.project.name, state, files, warnings: plan.warnings };
}

export interface DiffResult {
  project: string;
  /** Unified diff (paths relative to the project directory, for `patch -p1`); empty when nothing would change. */
  diff: string;
  /** Set when regeneration would refuse without adopt or overwrite; the diff then shows what overwrite would write. */
  refused?: string;
  /** Why no diff could be made. */
  reason?: string;
}

export async function diffInstructions(ctx: ReadContext, projects: InstructionProject[], among?: InstructionProject[]): Promise<{ results: DiffResult[] }> {
  const results = await eachPlan(ctx, { projects, among }, diffResult, (project, reason): DiffResult => ({ project: project.name, diff: '', reason }));
  return { results };
}

function diffResult(plan: ProjectPlan): DiffResult {
  const diff = plan.files.map((f) => (f.after === undefined ? '' : unifiedDiff(`a/${f.file}`, `b/${f.file}`, f.before, f.after))).join('');
  const refused = plan.files.filter((f) => f.state === 'hand-edited' || f.state === 'malformed').map((f) => f.reason ?? `${f.target.shown} ${handEditReason(f)}`);
  return { project: plan.project.name, diff, ...(refused.length > 0 ? { refused: refused.join('; ') } : {}) };
}

async function eachPlan<T>(
  ctx: ReadContext,
  targets: { projects: InstructionProject[]; among?: InstructionProject[] },
  view: (plan: ProjectPlan) => T,
  failed: (project: InstructionProject, reason: string) => T,
): Promise<T[]> {
  const shared = await readSharedLayers(ctx.root);
  return forEachProject(targets.projects, async (project) => view(await planProject({ shared, facts: ctx.facts, blocks: ctx.blocks }, project)), failed, { among: targets.among });
}
