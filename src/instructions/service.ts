import { resolve } from 'node:path';
import type { Progress } from '../catalog/operation.js';
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { forbidden, invalidInput } from '../core/errors.js';
import { KeyedLock } from '../core/keyed-lock.js';
import { pageArray } from '../core/page.js';
import type { Principal } from '../core/principal.js';
import type { ProjectService } from '../projects/index.js';
import type { InstructionProject } from './assemble.js';
import { checkInstructions, diffInstructions, type CheckResult } from './check.js';
import { AgentsMdChoices } from './choices.js';
import type { OnHandEdit } from './hand-edits.js';
import { LAYER_DIRS, LAYERS, listLayers, writeLayerFile, type Layer, type LayerListing } from './layers.js';
import { MCP_CONFIG_FILE, mcpConfigDrift, writeMcpConfig } from './mcp-config.js';
import type { Facts } from './placeholders.js';
import { regenerateInstructions, type InstructionsContext, type RegenerateResult } from './regenerate.js';
import { rootShownTo } from './hidden-root.js';
import { initInstructionsRoot } from './starter.js';
import { TargetResolver, type Skipped } from './targets.js';
import { byCodeUnits } from '../core/order.js';
import { DbWrittenBlocks } from './written-blocks.js';

export interface InstructionsServiceDeps {
  /** Holds .supervisor-core/ and .supervisor-meta/. */
  root: string;
  db: Db;
  clock: Clock;
  audit: AuditLog;
  projects: Pick<ProjectService, 'list' | 'get'>;
  /** A project's live facts (see facts.ts); tests may inject their own. */
  facts: (project: InstructionProject) => Promise<Facts>;
  /** The project's MCP endpoint, for .mcp.json. */
  mcpUrl: (project: string) => string;
}

export type RegenerateRow = RegenerateResult | { project: string; status: 'skipped'; reason: string };
export type CheckRow = CheckResult | { project: string; state: 'skipped'; files: []; reason: string; warnings: [] };
export interface DiffRow {
  project: string;
  changes: boolean;
  refused?: string;
  reason?: string;
}

/** The server name .mcp.json gets: agents see the tools as mcp__supervisor__<tool> in every project. */
const MCP_SERVER = 'supervisor';

const byProject = <T extends { project: string }>(rows: T[]) => rows.sort((a, b) => byCodeUnits(a.project, b.project));

/**
 * Instructions as a domain: the file-level engine (layers, blocks, plans) run over the
 * projects the projects domain knows, with facts from the ports and secrets domains. Writes
 * need an admin; a project token may check, diff and list the layers of its own project.
 */
export class InstructionsService {
  private readonly ctx: InstructionsContext;
  private readonly choices: AgentsMdChoices;
  private readonly targets: TargetResolver;

  constructor(private readonly deps: InstructionsServiceDeps) {
    this.ctx = { root: deps.root, facts: deps.facts, clock: deps.clock, lock: new KeyedLock(), blocks: new DbWrittenBlocks(deps.db, deps.clock) };
    this.choices = new AgentsMdChoices(deps.db, deps.clock);
    this.targets = new TargetResolver(deps.projects, () => this.choices.chosen());
  }

  /** The starter layers in the root; files that exist are kept. */
  async init(actor: string): Promise<{ root: string; created: string[]; kept: string[] }> {
    const result = await initInstructionsRoot(this.deps.root);
    await this.deps.audit.record({ actor, action: 'instructions.init', target: this.deps.root, outcome: 'ok', detail: { created: result.created.length } });
    return { root: this.deps.root, ...result };
  }

  /**
   * Regenerates one project's managed blocks, or every project's (`all`). `agentsMd` records
   * the project's choice first, so this and every later run honour it.
   */
  async regenerate(
    actor: string,
    input: { project?: string; all: boolean; onHandEdit: OnHandEdit; agentsMd?: boolean },
    progress: (step: Progress) => void = () => undefined,
  ): Promise<{ ok: boolean; counts: Record<RegenerateRow['status'], number>; results: RegenerateRow[] }> {
    if ((input.project === undefined) !== input.all) throw invalidInput('give either project (one project) or all (every project)', { fields: ['project', 'all'] });
    if (input.agentsMd !== undefined) await this.chooseAgentsMd(actor, input.project, input.agentsMd);
    const targets = await this.targets.resolve(input.project);
    let done = 0;
    const report = await regenerateInstructions(this.ctx, targets.projects, {
      onHandEdit: input.onHandEdit,
      onResult: (r) => progress({ message: `${r.project}: ${r.status}`, progress: ++done, total: targets.projects.length }),
      among: targets.among,
    });
    const results = byProject<RegenerateRow>([...report.results, ...targets.skipped.map((s) => ({ ...s, status: 'skipped' as const }))]);
    const counts = { ...report.counts, skipped: targets.skipped.length };
    const ok = counts.refused === 0 && counts.failed === 0;
    // A run that left a project refused or failed is not logged as done: the audit log is read for what went wrong.
    await this.deps.audit.record({ actor, action: 'instructions.regenerate', target: input.project ?? '*', outcome: ok ? 'ok' : 'error', detail: counts });
    return { ok, counts, results };
  }

  private async chooseAgentsMd(actor: string, project: string | undefined, agentsMd: boolean): Promise<void> {
    if (project === undefined) throw invalidInput('agentsMd is chosen per project: give project with it', { fields: ['agentsMd'] });
    await this.targets.one(project);
    await this.choices.set(project, agentsMd);
    await this.deps.audit.record({ actor, action: 'instructions.agents_md', target: project, outcome: 'ok', detail: { agentsMd } });
  }

  /** `ok` is false when any block is stale, hand-edited, missing or malformed, or a project failed. */
  async check(principal: Principal, project: string | undefined): Promise<{ ok: boolean; results: CheckRow[] }> {
    const targets = await this.targets.resolve(await this.scope(principal, project, 'instructions.check'));
    const checked = await checkInstructions(this.ctx, targets.projects, targets.among);
    // CLAUDE.md current but .mcp.json pointing at the old address leaves the agent without its tools.
    let ok = checked.ok;
    for (const row of checked.results) {
      const directory = targets.projects.find((p) => p.name === row.project)?.directory;
      const drift = directory && (await mcpConfigDrift({ directory, serverName: MCP_SERVER, url: this.deps.mcpUrl(row.project) }));
      if (!drift) continue;
      if ('broken' in drift) {
        row.warnings.push(drift.broken);
        continue;
      }
      row.files.push({ path: MCP_CONFIG_FILE, state: 'stale', reason: drift.stale });
      if (row.state === 'current' || row.state === 'missing') row.state = 'stale';
      ok = false;
    }
    // The reasons' fix (regenerate_instructions, write_mcp_config) is an admin's to run.
    if (principal.role !== 'admin') for (const row of checked.results) if (row.state !== 'current' && row.state !== 'failed') row.warnings.push(ADMIN_FIXES);
    const skipped = targets.skipped.map((s): CheckRow => ({ ...s, state: 'skipped', files: [], warnings: [] }));
    const shown = rootShownTo(principal, this.deps.root);
    return { ok, results: byProject([...checked.results.map((row) => checkRowShown(row, shown)), ...skipped]) };
  }

  /** What regeneration would change, as one patch: each project's diff after a `# <project> (<directory>)` line. */
  async diff(principal: Principal, project: string | undefined): Promise<{ patch: string; results: DiffRow[]; failed: boolean }> {
    const targets = await this.targets.resolve(await this.scope(principal, project, 'instructions.diff'));
    const { results } = await diffInstructions(this.ctx, targets.projects, targets.among);
    const directories = new Map(targets.projects.map((p) => [p.name, p.directory]));
    const shown = rootShownTo(principal, this.deps.root);
    const rows = byProject<DiffRow>([...results.map(({ diff, ...rest }): DiffRow => diffRowShown({ ...rest, changes: diff !== '' }, shown)), ...targets.skipped.map(skippedDiff)]);
    const diffs = new Map(results.map((r) => [r.project, r.diff]));
    // A project with no diff to show says why in the patch too: the CLI prints only the patch.
    const patch = rows
      .map((row) => {
        const diff = diffs.get(row.project) ?? '';
        // A malformed file has no diff: overwrite refuses it too.
        const refusal = row.refused && `# regenerate refuses this as it is (${row.refused})${diff === '' ? '' : '; the diff is what overwrite would write'}`;
        const notes = [row.reason && `# no diff: ${row.reason}`, refusal].filter(Boolean);
        return diff === '' && notes.length === 0 ? '' : `# ${row.project} (${directories.get(row.project) ?? 'no directory'})\n${notes.map((n) => `${n}\n`).join('')}${diff}`;
      })
      .join('');
    // A project skipped (no directory: meta and shared on every install) is not a failure, as in check and regenerate.
    return { patch, results: rows, failed: results.some((row) => row.reason !== undefined) };
  }

  /** The shared layer files, or with a project the files assembled for it (its own layer included); every page names the problems. */
  async layers(principal: Principal, input: { project?: string; limit: number; cursor?: string }): Promise<{ root: string; files: LayerListing[]; problems: string[]; nextCursor: string | null }> {
    const scoped = await this.scope(principal, input.project, 'instructions.layers');
    const owner = scoped === undefined ? undefined : await this.targets.one(scoped);
    const listed = await listLayers(this.deps.root, owner);
    // Assembly order is layer order, then name: the cursor key sorts the same way.
    const page = pageArray(listed.files, input, (f) => `${LAYERS.indexOf(f.layer)}/${f.name}`);
    const shown = rootShownTo(principal, this.deps.root);
    // The project layer is in the project's own directory, which its token may know (even inside the root).
    const files = page.items.map((f) => (f.layer === 'project' ? f : { ...f, path: shown(f.path) }));
    return { root: shown(this.deps.root), files, problems: listed.problems.map(shown), nextCursor: page.nextCursor };
  }

  /** Writes or replaces a layer file; its text always ends with a line end (stdin loses the last one). */
  async writeLayer(actor: string, input: { layer: Layer; name: string; text: string; project?: string }): Promise<{ path: string; status: 'created' | 'updated' | 'unchanged' }> {
    if (input.layer === 'project' && input.project === undefined) {
      throw invalidInput(`layer project needs the project whose ${LAYER_DIRS.project}/ gets the file (project)`, { fields: ['layer', 'project'] });
    }
    if (input.layer !== 'project' && input.project !== undefined) {
      const whose = input.layer === 'core' ? 'every project' : 'the meta project';
      throw invalidInput(`project goes only with layer project; a ${input.layer} layer file is read by ${whose}`, { fields: ['layer', 'project'] });
    }
    const owner = input.project === undefined ? undefined : await this.targets.one(input.project);
    const text = input.text.endsWith('\n') ? input.text : `${input.text}\n`;
    const written = await writeLayerFile({ root: this.deps.root, layer: input.layer, name: input.name, text, project: owner });
    await this.deps.audit.record({ actor, action: 'instructions.write_layer', target: written.path, outcome: 'ok', detail: { status: written.status } });
    return written;
  }

  /** The project's .mcp.json entry for its endpoint, with the token as ${SUPERVISOR_TOKEN}. */
  async writeMcpConfig(actor: string, project: string): Promise<{ path: string; server: string; url: string; status: 'created' | 'updated' | 'unchanged' }> {
    const target = await this.targets.one(project);
    const url = this.deps.mcpUrl(project);
    const written = await this.ctx.lock.run(resolve(target.directory), () => writeMcpConfig({ directory: target.directory, serverName: MCP_SERVER, url }));
    await this.deps.audit.record({ actor, action: 'instructions.mcp_config', target: written.path, outcome: 'ok', detail: { status: written.status } });
    return { ...written, server: MCP_SERVER, url };
  }

  /** A project token reads its own project only; admins name one, or mean every project. */
  private async scope(principal: Principal, project: string | undefined, action: string): Promise<string | undefined> {
    if (principal.role === 'admin') return project;
    if (project === undefined || project === principal.project) return principal.project;
    await this.deps.audit.record({ actor: principal.actor, action, target: project, outcome: 'denied' });
    throw forbidden(`this token belongs to project ${principal.project} and cannot read the instructions of project ${project}`);
  }
}

/** Said to a project token whose check found work: the fixes its reasons name are an admin's. */
const ADMIN_FIXES = 'regenerate_instructions and write_mcp_config need an admin token: ask an admin to run them for this project';

/** A checked or diffed project's reasons and warnings, the root's path in them as `shown` has it. */
function checkRowShown(row: CheckResult, shown: (text: string) => string): CheckResult {
  return {
    ...row,
    ...(row.reason === undefined ? {} : { reason: shown(row.reason) }),
    files: row.files.map((f) => (f.reason === undefined ? f : { ...f, reason: shown(f.reason) })),
    warnings: row.warnings.map(shown),
  };
}

function diffRowShown(row: DiffRow, shown: (text: string) => string): DiffRow {
  return { ...row, ...(row.reason === undefined ? {} : { reason: shown(row.reason) }), ...(row.refused === undefined ? {} : { refused: shown(row.refused) }) };
}

const skippedDiff = (s: Skipped): DiffRow => ({ project: s.project, changes: false, reason: s.reason });
