// The GCloud domain as its operations see it: accounts, VMs, health, auto-scaling, cost and
// attachments to supervisor projects. Every VM call names an account or its project id; the
// account's stored key signs the OAuth grant, and the outcome of each call is recorded on it.
import type { Progress } from '../catalog/operation.js';
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { conflict, invalidInput, notFound, SupervisorError, toSupervisorError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Presence } from '../core/presence.js';
import type { Page } from '../core/page.js';
import type { Principal } from '../core/principal.js';
import type { ProjectData } from '../core/project-data.js';
import type { ProjectService } from '../projects/index.js';
import type { SecretsService } from '../secrets/index.js';
import { GcloudAccounts, type Account, type AccountClients, type AccountRow } from './accounts.js';
import { Attachments, attachmentKey, type Attachment } from './attachments.js';
import { checkRules, decideScaling, DEFAULT_POLICY, type AutoscalePolicy, type MetricsSummary } from './autoscale.js';
import { MACHINE_TYPES, SEED_LADDER } from './catalog.js';
import type { ComputeClient, MutationOptions, OperationOutcome } from './compute.js';
import { healthWindow, readHealth, type VmHealthView } from './health.js';
import { readHistory, storeSamples, type HistoryPoint } from './samples.js';
import type { InstanceRef, InstanceSpec, VmInstance } from './instance.js';
import { PolicyStore, type EvaluationRow, type Mode, type PolicyRow } from './policies.js';
import { historyCursor, historyKey } from './history-cursor.js';
import { billedAsRunning, noPriceNote, PriceBook } from './pricing.js';
import type { CostEstimate } from './cost.js';
import { assertResizable, resize, type ResizeReport } from './resize.js';
import { beingResized, ResizesInFlight, ResizeUnderWay, type InFlightResize } from './resizes-in-flight.js';
import type { GcloudSettings } from './settings.js';

export interface GcloudDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  log: Logger;
  settings: GcloudSettings;
  secrets: Pick<SecretsService, 'get' | 'set' | 'delete' | 'changeMark'>;
  projects: Pick<ProjectService, 'get'>;
  sleep: (ms: number) => Promise<void>;
  /** False in a CLI process opened for one command: it recovers nothing at start. */
  longRunning: boolean;
  /** Who runs a resize under way, and whether it still does. */
  presence: Presence;
}

/** How a caller names a VM: an account (or its project id), a zone and the instance name. */
export interface VmArgs {
  project: string;
  zone: string;
  instanceName: string;
}

type Report = (step: Progress) => void;

const FAILURES_OF_ACCOUNT = new Set(['not_configured', 'forbidden', 'unavailable']);
/** Where a zone goes in a call that reads one zone, for a zone given in the account's place. */
const ZONE_FILTER = 'to look in one zone, give it as the zone (zone): with no project for every account, or with one of them as project';

/** Runs `fn` over `items`, at most `limit` at a time, answers in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** An auto-scaler's resize claimed a VM found on another type than it decided on: nothing is done. */
class ChangedMeanwhile extends Error {
  constructor(readonly machineType: string) {
    super(`resized meanwhile to ${machineType}`);
  }
}

/** A monthly cost's change, to the cent. */
const usdChange = (before: number, after: number) => Math.round((after - before) * 100) / 100;

/** An account a fleet-wide read could not read, and why. */
export interface AccountFailure {
  account: string;
  project: string;
  error: string;
}

export class GcloudService {
  readonly accounts: GcloudAccounts;
  readonly attachments: Attachments;
  readonly policies: PolicyStore;
  readonly prices: PriceBook;
  private readonly inFlight: ResizesInFlight;

  constructor(private readonly deps: GcloudDeps) {
    this.accounts = new GcloudAccounts(deps);
    this.attachments = new Attachments(deps.db);
    this.policies = new PolicyStore(deps.db);
    this.prices = new PriceBook(deps.db, deps.clock);
    this.inFlight = new ResizesInFlight(deps.db, deps.presence);
  }

  /** At a daemon's start: resizes a stopped daemon left midway (see resizes-in-flight.ts). */
  async startup(): Promise<void> {
    if (!this.deps.longRunning) return;
    for (const cut of await this.inFlight.cutOff()) {
      if (!(await this.inFlight.takeOver(cut))) continue;
      await this.recover(cut).catch(async (err: unknown) => {
        const error = toSupervisorError(err);
        // Its account or VM gone, there is nothing left to put back; anything else may pass.
        const gone = error.code === 'not_found';
        this.deps.log.warn({ vm: attachmentKey(cut.ref), err: error.message }, `a resize cut off midway could not be looked at; ${gone ? 'it is forgotten' : 'it is looked at again at the next start'}`);
        await (gone ? this.inFlight.forget(cut.ref) : this.inFlight.handBack(cut));
      });
    }
  }

  /**
   * A VM that was running before a resize cut off midway and is now stopped is started again, on
   * whatever type it has (the cut may have come before or after the type change): stopped, it
   * serves nothing, and nothing else would start it. Said in the log and the audit log either way.
   */
  private async recover(cut: InFlightResize): Promise<void> {
    await this.withAccount(cut.account, async (c) => {
      const vm = await c.compute.get(cut.ref);
      const restart = cut.wasRunning && vm.status === 'TERMINATED';
      if (restart) await c.compute.start(cut.ref, { timeoutMs: this.deps.settings.gcloudOperationTimeoutS * 1000 });
      const found = `${vm.status} on ${vm.machineType}`;
      const done = restart ? 'started it again' : cut.wasRunning && vm.status !== 'RUNNING' ? 'it is not running: check it and start it by hand' : 'nothing to do';
      this.deps.log.warn({ vm: attachmentKey(cut.ref), from: cut.from, to: cut.to, startedAt: cut.startedAt.toISOString(), found }, `a resize of ${cut.ref.name} from ${cut.from} to ${cut.to} was cut off when its daemon stopped; found it ${found}: ${done}`);
      await this.deps.audit.record({ actor: 'system:gcloud', action: 'gcloud.resize_vm', target: attachmentKey(cut.ref), outcome: 'error', detail: { account: cut.account, cutOff: true, from: cut.from, to: cut.to, found, restarted: restart } });
    });
    await this.inFlight.forget(cut.ref);
  }

  // ---- accounts ------------------------------------------------------------------------------

  addAccount(principal: Principal, input: { account: string; key: string }): Promise<{ row: AccountRow; created: boolean }> {
    return this.accounts.add(principal, input);
  }

  listAccounts(): Promise<AccountRow[]> {
    return this.accounts.list();
  }

  /**
   * Forgets an account. Auto-scaling policies are kept (they are keyed by the Google project,
   * and adding an account for it again resumes them), but a note says they stop running when no
   * account is left for their project: removing one should not leave a VM silently unscaled.
   */
  async removeAccount(principal: Principal, account: string, confirmed: () => void): Promise<{ account: AccountRow; notes: string[] }> {
    const removed = await this.accounts.remove(principal, account, confirmed);
    const projectId = removed.project_id;
    if ((await this.accounts.list()).some((a) => a.project_id === projectId)) return { account: removed, notes: [] };
    const paused = await this.policies.list({ projects: [projectId], activeOnly: true });
    if (paused.length === 0) return { account: removed, notes: [] };
    const vms = paused.map((p) => `${p.zone}/${p.instance_name}`).join(', ');
    return {
      account: removed,
      notes: [`auto-scaling of ${vms} (project ${projectId}) stops: no account is left for that project. The policies are kept and run again once an account for ${projectId} is added; to stop one for good, set its mode to off by the project id (autoscale set ${projectId} <zone> <vm> off).`],
    };
  }

  // ---- VMs -----------------------------------------------------------------------------------

  /**
   * VMs of one account, or (no project) of every project's account, each labelled with the account
   * it was read with; an account that could not be read is named in `failed` beside the others.
   */
  async listVms(project?: string, zone?: string): Promise<{ account?: string; project?: string; items: Array<VmInstance & { account: string; attachedTo: string | null }>; failed: AccountFailure[] }> {
    const { results, failed } = await this.acrossAccounts(
      project,
      (account) => this.using(account, async (c) => (await c.compute.list(account.projectId, zone)).map((vm) => ({ ...vm, account: account.name }))),
      ZONE_FILTER,
    );
    const items = await this.withAttachments(results.flat());
    if (!project) return { items, failed };
    const named = await this.accounts.resolve(project);
    return { account: named.name, project: named.projectId, items, failed };
  }

  async getVm(args: VmArgs): Promise<VmInstance & { attachedTo: string | null }> {
    return this.withVm(args, async (c, ref) => (await this.withAttachments([await c.compute.get(ref)]))[0]!);
  }

  /** A suspended VM is resumed (start is refused for it); one still suspending is refused until it has. */
  async startVm(actor: string, args: VmArgs, progress: Report) {
    return this.change(actor, 'start', args, progress, async (c, ref, o) => {
      const { status } = await c.compute.get(ref);
      if (status === 'SUSPENDING') throw conflict(`${ref.name} is being suspended; start it once it is SUSPENDED (it is then resumed)`, { status });
      return status === 'SUSPENDED' ? c.compute.resume(ref, o) : c.compute.start(ref, o);
    });
  }

  async stopVm(actor: string, args: VmArgs, progress: Report) {
    return this.change(actor, 'stop', args, progress, (c, ref, o) => c.compute.stop(ref, o));
  }

  async deleteVm(actor: string, args: VmArgs, progress: Report): Promise<{ deleted: true; operation: OperationOutcome; detachedFrom: string | null }> {
    return this.withVm(args, async (c, ref) => {
      const attachedTo = (await this.attachments.lookup([ref.project])).get(attachmentKey(ref)) ?? null;
      return this.audited(actor, 'gcloud.delete_vm', ref, c.account.name, async () => {
        const operation = await c.compute.delete(ref, this.waiting(progress)).catch(async (err: unknown) => {
          // Deleted in the console: what is kept here for it would otherwise stay for good.
          if (!(err instanceof SupervisorError && err.code === 'not_found')) throw err;
          const kept = await this.forgetVm(ref);
          throw kept.length === 0 ? err : new SupervisorError('not_found', `${err.message}; the VM is gone already, so its ${kept.join(' and ')} here ${kept.length > 1 ? 'were' : 'was'} removed`, err.details);
        });
        await this.forgetVm(ref);
        return { result: { deleted: true as const, operation, detachedFrom: attachedTo }, detail: { operation: operation.operation } };
      });
    });
  }

  async createVm(actor: string, args: VmArgs & Omit<InstanceSpec, 'project' | 'zone' | 'name'>, dryRun: boolean, progress: Report) {
    return this.withVm(args, async (c, ref) => {
      const spec: InstanceSpec = { ...args, project: ref.project, zone: ref.zone, name: ref.name };
      if (dryRun) {
        const planned: VmInstance = { ...ref, id: '', status: 'RUNNING', machineType: spec.machineType, labels: spec.labels ?? {}, bootDiskGb: spec.diskSizeGb, externalAccess: spec.externalIp !== false };
        const { cost, note } = await this.priced(planned, true);
        // What Google would refuse, found now: a plan that says yes to a create that will fail is no plan.
        await assertOffered(c, ref, spec.machineType, 'machineType');
        const existing = await c.compute.get(ref).catch((err: unknown) => {
          if (err instanceof SupervisorError && err.code === 'not_found') return undefined;
          throw err;
        });
        if (existing) throw conflict(`a VM named ${ref.name} already exists in ${ref.zone} (${existing.status}, ${existing.machineType}); choose another name`, { field: 'instanceName' });
        return { dryRun, vm: null, operation: null, cost, ...(note ? { note } : {}) };
      }
      return this.audited(actor, 'gcloud.create_vm', ref, c.account.name, async () => {
        const operation = await c.compute.insert(spec, this.waiting(progress));
        const [vm] = await this.withAttachments([await c.compute.get(ref)]);
        // The VM as Google made it is the one priced: what it was asked to be is the plan's.
        const { cost, note } = await this.priced(vm!, false);
        return { result: { dryRun, vm: vm!, operation, cost, ...(note ? { note } : {}) }, detail: { machineType: spec.machineType, operation: operation.operation } };
      });
    });
  }

  /** stop (if running) → setMachineType → start; a failure midway puts the old type back. */
  async resizeVm(actor: string, args: VmArgs & { newMachineType: string }, dryRun: boolean, progress: Report) {
    return this.withVm(args, async (c, ref) => {
      const vm = await c.compute.get(ref);
      const before = await this.prices.vmCost(vm);
      const after = await this.priced(vm, dryRun, args.newMachineType);
      // A stopped VM pays for its disk only, so its change reads $0.00: what it costs once started is the news.
      const whenRunning = billedAsRunning(vm.status) ? undefined : await this.runningChange(vm, args.newMachineType);
      const note = whenRunning ?? after.note ?? before.note;
      const cost = {
        before: before.cost?.totalUsd ?? null,
        after: after.cost?.totalUsd ?? null,
        changeUsd: before.cost && after.cost ? usdChange(before.cost.totalUsd, after.cost.totalUsd) : null,
        priceVersion: (before.cost ?? after.cost)?.priceVersion ?? null,
        ...(note ? { note } : {}),
      };
      if (dryRun) {
        await assertOffered(c, ref, args.newMachineType, 'newMachineType');
        // What the resize would refuse, the plan refuses: a plan that says yes to it is no plan.
        if (vm.machineType !== args.newMachineType) assertResizable(ref, vm.status);
        const planned = vm.machineType === args.newMachineType ? [] : vm.status === 'RUNNING' ? ['stop', 'setMachineType', 'start'] : ['setMachineType'];
        return { dryRun, report: null, planned, from: vm.machineType, to: args.newMachineType, status: vm.status, cost };
      }
      return this.audited(actor, 'gcloud.resize_vm', ref, c.account.name, async () => {
        const report = await this.resizeWithProgress(c, ref, args.newMachineType, progress);
        if (report.changed) await this.policies.changed(ref, this.deps.clock.now());
        const result = { dryRun, report, planned: report.steps.map((s) => s.step), from: report.from, to: report.to, status: report.finalStatus, cost };
        return { result, detail: { from: report.from, to: report.to } };
      });
    });
  }

  /** A VM's cost on `machineType` (default its own), a missing price said as a plan (`planned`) or a change made reads it. */
  private async priced(vm: VmInstance, planned: boolean, machineType = vm.machineType): Promise<{ cost: CostEstimate | null; note?: string }> {
    const { cost, note } = await this.prices.vmCost(vm, machineType);
    return !cost && note ? { cost, note: noPriceNote(note, vm.name, planned) } : { cost, ...(note ? { note } : {}) };
  }

  /** What a resize of a stopped VM changes once it runs all month; undefined when a type has no price. */
  private async runningChange(vm: VmInstance, machineType: string): Promise<string | undefined> {
    const [before, after] = [(await this.prices.vmCost(vm, vm.machineType, true)).cost, (await this.prices.vmCost(vm, machineType, true)).cost];
    if (!before || !after) return undefined;
    const delta = usdChange(before.totalUsd, after.totalUsd);
    return `${vm.status}: it pays for its disk only, so nothing changes while it is stopped; running all month it costs $${after.totalUsd.toFixed(2)} instead of $${before.totalUsd.toFixed(2)} (${delta >= 0 ? '+' : '-'}$${Math.abs(delta).toFixed(2)})`;
  }

  /** Removes what is kept here for a VM (attachment, auto-scaling policy); says which there were. */
  private async forgetVm(ref: InstanceRef): Promise<string[]> {
    const detached = await this.attachments.detach(ref);
    const forgotten = await this.policies.forget(ref);
    return [...(detached ? ['attachment'] : []), ...(forgotten ? ['auto-scaling policy'] : [])];
  }

  async attachVm(actor: string, args: VmArgs, to: string | null): Promise<{ project: string; zone: string; instanceName: string; attachedTo: string | null; changed: boolean }> {
    return this.withVm(args, async (c, ref) => {
      if (to !== null) await this.deps.projects.get(to);
      // Attaching needs the VM; detaching does not (it may have been deleted in the console).
      if (to !== null) await c.compute.get(ref);
      const was = (await this.attachments.lookup([ref.project])).get(attachmentKey(ref)) ?? null;
      if (to === null) await this.attachments.detach(ref);
      else await this.attachments.attach(ref, to, actor, this.deps.clock.now());
      if (was !== to) await this.deps.audit.record({ actor, action: to ? 'gcloud.attach_vm' : 'gcloud.detach_vm', target: attachmentKey(ref), outcome: 'ok', detail: { from: was, to } });
      return { project: ref.project, zone: ref.zone, instanceName: ref.name, attachedTo: to, changed: was !== to };
    });
  }

  /** What gcloud holds for a supervisor project: its attached VMs (released with it). */
  projectData(): ProjectData {
    return this.attachments.projectData(this.deps.audit);
  }

  /** The VMs a supervisor project uses: for deploys ("the VM of consilio"). */
  vmsOf(project: string): Promise<Attachment[]> {
    return this.attachments.ofProject(project);
  }

  // ---- health --------------------------------------------------------------------------------

  /**
   * Health of one VM, of every VM of an account, or (no project) of every VM of every account;
   * the samples are stored. Accounts are read concurrently, each with three Monitoring calls.
   */
  async health(input: { project?: string; zone?: string; instanceName?: string; minutes: number }): Promise<{ vms: VmHealthView[]; stored: number; failed: AccountFailure[] }> {
    if (input.instanceName && !input.project) throw invalidInput('project: needed with instanceName (the account or project id the VM is in)', { field: 'project' });
    if (input.instanceName && !input.zone) throw invalidInput('zone: needed with instanceName', { field: 'zone' });
    const window = healthWindow(this.deps.clock.now(), input.minutes);
    const { results, failed } = await this.acrossAccounts(
      input.project,
      (account) =>
        this.using(account, async (c) => {
          const vms = input.instanceName ? [await c.compute.get({ project: account.projectId, zone: input.zone!, name: input.instanceName })] : await c.compute.list(account.projectId, input.zone);
          return readHealth(c.monitoring, account.name, account.projectId, vms, window);
        }),
      ZONE_FILTER,
    );
    const prune = new Date(window.end.getTime() - this.deps.settings.gcloudSampleRetentionDays * 86_400_000);
    const stored = await storeSamples(this.deps.db, results.flatMap((r) => r.samples), prune);
    return { vms: results.flatMap((r) => r.health), stored, failed };
  }

  /**
   * One VM's stored samples over the last `minutes`, in buckets of `stepMinutes` (at most
   * `points` of them): the history behind a chart. Reads the database only, no Google call.
   */
  async healthHistory(input: { project: string; zone: string; instanceName: string; minutes: number; points: number }): Promise<{
    project: string;
    zone: string;
    instanceName: string;
    from: Date;
    to: Date;
    stepMinutes: number;
    items: HistoryPoint[];
    note?: string;
  }> {
    const account = await this.accounts.resolve(input.project);
    const stepMinutes = Math.ceil(input.minutes / input.points);
    const to = this.deps.clock.now();
    const from = new Date(to.getTime() - input.minutes * 60_000);
    const items = await readHistory(this.deps.db, { projectId: account.projectId, zone: input.zone, instanceName: input.instanceName, from, to, stepMinutes });
    return {
      project: account.projectId,
      zone: input.zone,
      instanceName: input.instanceName,
      from,
      to,
      stepMinutes,
      items,
      ...(items.length === 0 ? { note: `no samples stored for ${input.instanceName} in ${input.zone} in the last ${input.minutes} minutes; they are stored when gcloud_vm_health or the auto-scaler reads its health` } : {}),
    };
  }

  // ---- auto-scaling --------------------------------------------------------------------------

  async setPolicy(actor: string, args: VmArgs & { mode: Mode; ladder?: string[]; rules?: Partial<AutoscalePolicy> }): Promise<PolicyRow> {
    // Turning a policy off needs nothing from Google: it works for a VM deleted in the console, and by
    // the project id for one whose account was removed (both failures' messages say to do this).
    if (args.mode === 'off' && !args.ladder && !args.rules) {
      const off = await this.turnOff(actor, args);
      if (off) return off;
    }
    return this.withVm(args, async (c, ref) => {
      const existing = await this.policies.get(ref);
      // The overrides given replace the stored ones ({} brings back the defaults); omitted, they are kept.
      const rules = args.rules ?? existing?.rules ?? {};
      checkRules(rules);
      const ladder = args.ladder ?? existing?.ladder;
      const vm = await c.compute.get(ref);
      const effective = ladder ?? (SEED_LADDER.includes(vm.machineType) ? SEED_LADDER : undefined);
      if (!effective) throw invalidInput(`ladder: needed, since ${vm.machineType} (the type of ${ref.name}) is not on the default ladder ${SEED_LADDER.join(', ')}`, { field: 'ladder' });
      if (!effective.includes(vm.machineType)) {
        throw invalidInput(`ladder: ${vm.machineType}, the current type of ${ref.name}, is not on it (${effective.join(', ')}); the auto-scaler only moves along the ladder`, { field: 'ladder' });
      }
      const row = await this.policies.set(ref, { mode: args.mode, ladder: effective, rules }, actor, this.deps.clock.now());
      await this.deps.audit.record({ actor, action: 'gcloud.set_autoscale_policy', target: attachmentKey(ref), outcome: 'ok', detail: { mode: args.mode, ladder: effective } });
      return row;
    });
  }

  /** Turns an existing policy off, or answers undefined when there is none (by account or by project id). */
  private async turnOff(actor: string, args: VmArgs): Promise<PolicyRow | undefined> {
    const { account, ref } = await this.policyRef(args);
    const existing = await this.policies.get(ref);
    if (!existing) return undefined;
    const row = await this.policies.set(ref, { mode: 'off', ladder: existing.ladder, rules: existing.rules }, actor, this.deps.clock.now());
    await this.deps.audit.record({ actor, action: 'gcloud.set_autoscale_policy', target: attachmentKey(ref), outcome: 'ok', detail: { mode: 'off', ladder: existing.ladder, account: account?.name ?? null } });
    return row;
  }

  /**
   * Removes a VM's policy, so no run evaluates it again. Like turning one off it needs nothing
   * from Google: a VM deleted in the console, or a project whose account was removed, keeps none.
   */
  async removePolicy(actor: string, args: VmArgs): Promise<PolicyRow> {
    const { account, ref } = await this.policyRef(args);
    const removed = await this.policies.forget(ref);
    if (!removed) {
      throw notFound(`${ref.name} in ${ref.zone} (project ${ref.project}) has no auto-scaling policy; gcloud_get_autoscale_policy lists the policies`, { instanceName: ref.name });
    }
    await this.deps.audit.record({ actor, action: 'gcloud.remove_autoscale_policy', target: attachmentKey(ref), outcome: 'ok', detail: { mode: removed.mode, ladder: removed.ladder, account: account?.name ?? null } });
    return removed;
  }

  /** Where a policy is kept: by the named account's project, else by the name taken as a project id (its account removed). */
  private async policyRef(args: VmArgs): Promise<{ account?: Account; ref: InstanceRef }> {
    const account = await this.accounts.resolve(args.project).catch((err: unknown) => {
      if (err instanceof SupervisorError && err.code === 'not_found') return undefined;
      throw err;
    });
    return { account, ref: { project: account?.projectId ?? args.project, zone: args.zone, name: args.instanceName } };
  }

  async getPolicies(filter: { project?: string; instanceName?: string }): Promise<PolicyRow[]> {
    return this.policies.list({ projects: await this.storedProjects(filter.project), instanceName: filter.instanceName });
  }

  /**
   * The Google project ids a filter of stored policies and evaluations names: an account's, or a
   * project id that policies are stored for even with no account now (one removed: its policies
   * are listed, and turned off, by the project id). Anything else is not_found, as a typo should be.
   */
  private async storedProjects(project: string | undefined): Promise<string[] | undefined> {
    if (project === undefined) return undefined;
    try {
      return [(await this.accounts.resolve(project)).projectId];
    } catch (err) {
      if (!(err instanceof SupervisorError && err.code === 'not_found') || !(await this.policies.knowsProject(project))) throw err;
      return [project];
    }
  }

  /** Evaluates now every policy that is not off (or those of one account, or one VM's). */
  async autoscaleRun(actor: string, filter: { project?: string; instanceName?: string }, progress: Report): Promise<EvaluationRow[]> {
    if (filter.instanceName && !filter.project) throw invalidInput('project: needed with instanceName', { field: 'project' });
    const accounts = new Map((filter.project ? [await this.accounts.resolve(filter.project)] : await this.everyProject()).map((a) => [a.projectId, a]));
    // Every policy that is on, those of a removed account's project too: skipped in silence, a run
    // from cron would answer ok while a policy meant to act is never evaluated again.
    const policies = await this.policies.list({ projects: filter.project ? [...accounts.keys()] : undefined, instanceName: filter.instanceName, activeOnly: true });
    // One VM asked for by name: none to evaluate is a mistake to name (a typo), not an empty run.
    if (filter.instanceName && policies.length === 0) {
      throw notFound(`${filter.instanceName} has no auto-scaling policy that is on in ${filter.project}; gcloud_get_autoscale_policy lists the policies`, { instanceName: filter.instanceName });
    }
    const out: EvaluationRow[] = [];
    for (const [i, listed] of policies.entries()) {
      // A run that resizes takes minutes per VM: each policy is read again when its turn comes, so
      // one turned off or changed meanwhile is taken as it is now, and a resize another run (or a
      // person) made meanwhile starts its cooldown here too, rather than being resized again at once.
      const policy = await this.policies.get({ project: listed.project_id, zone: listed.zone, name: listed.instance_name });
      if (!policy || policy.mode === 'off') continue;
      progress({ message: `evaluating ${policy.project_id}/${policy.zone}/${policy.instance_name}`, progress: i, total: policies.length });
      const account = accounts.get(policy.project_id);
      out.push(account ? await this.evaluate(actor, account, policy, progress) : await this.orphaned(policy));
    }
    return out;
  }

  /** A policy that is on for a project no account is left for: a failed evaluation saying how to end it. */
  private orphaned(policy: PolicyRow): Promise<EvaluationRow> {
    const reason =
      `no account is left for project ${policy.project_id}, so ${policy.instance_name} is not evaluated; ` +
      `add an account for it (gcloud_add_account), or set this policy's mode to off (autoscale set ${policy.project_id} ${policy.zone} ${policy.instance_name} off)`;
    return this.policies.record({
      at: this.deps.clock.now(), project_id: policy.project_id, zone: policy.zone, instance_name: policy.instance_name, mode: policy.mode,
      machine_type: null, action: 'none', target: null, rule: 'error', reason, outcome: 'failed', error: reason,
      inputs: { ladder: policy.ladder, rules: { ...DEFAULT_POLICY, ...policy.rules }, lastChangeAt: policy.last_change_at?.toISOString() ?? null },
    });
  }

  /** Evaluations, newest first by when each began (see PolicyStore.history). */
  async history(filter: { project?: string; instanceName?: string }, page: { limit: number; cursor?: string }): Promise<Page<EvaluationRow>> {
    const projects = await this.storedProjects(filter.project);
    const before = page.cursor !== undefined ? historyKey(page.cursor) : undefined;
    const rows = await this.policies.history({ projects, instanceName: filter.instanceName }, before, page.limit + 1);
    const items = rows.slice(0, page.limit);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > page.limit && last ? historyCursor(last) : null };
  }

  private async evaluate(actor: string, account: Account, policy: PolicyRow, progress: Report): Promise<EvaluationRow> {
    const ref: InstanceRef = { project: policy.project_id, zone: policy.zone, name: policy.instance_name };
    const rules: AutoscalePolicy = { ...DEFAULT_POLICY, ...policy.rules };
    const now = this.deps.clock.now();
    const base = { at: now, project_id: ref.project, zone: ref.zone, instance_name: ref.name, mode: policy.mode };
    let vm: VmInstance | undefined;
    let inputs: Record<string, unknown> = { ladder: policy.ladder, rules, lastChangeAt: policy.last_change_at?.toISOString() ?? null };
    // A resize under way, by another run or by hand, is what holds the VM: said as such, not as the
    // state it passes through (stopped) or a cooldown on the type it is leaving.
    const resizing = (r: InFlightResize) =>
      this.policies.record({ ...base, machine_type: vm?.machineType ?? null, action: 'none', target: null, rule: 'resizing', reason: `${beingResized(r)}; it is evaluated again once that has ended`, outcome: 'nothing', error: null, inputs });
    try {
      const c = await this.accounts.clients(account);
      vm = await this.using(account, () => c.compute.get(ref));
      inputs = { ...inputs, status: vm.status, startedAt: vm.lastStartedAt ?? null };
      const underWay = await this.inFlight.underWay(ref);
      if (underWay) return await resizing(underWay);
      if (vm.status !== 'RUNNING') {
        return await this.policies.record({ ...base, machine_type: vm.machineType, action: 'none', target: null, rule: 'not_running', reason: `${ref.name} is ${vm.status}; only a running VM is scaled`, outcome: 'nothing', error: null, inputs });
      }
      const window = healthWindow(now, rules.windowMinutes);
      const { health, samples } = await this.using(account, () => readHealth(c.monitoring, account.name, ref.project, [vm!], window));
      await storeSamples(this.deps.db, samples, new Date(window.end.getTime() - this.deps.settings.gcloudSampleRetentionDays * 86_400_000));
      const h = health[0]!;
      const metrics: MetricsSummary = { cpu: h.cpu, memory: h.memory, disk: h.disk };
      inputs = { ...inputs, metrics };
      const decision = decideScaling({
        machineType: vm.machineType,
        ladder: policy.ladder.map((t) => MACHINE_TYPES.get(t)!).filter(Boolean),
        policy: rules,
        metrics,
        lastChangeAt: policy.last_change_at ?? undefined,
        startedAt: vm.lastStartedAt ? new Date(vm.lastStartedAt) : undefined,
        now,
      });
      if (decision.action === 'none') {
        return await this.policies.record({ ...base, machine_type: vm.machineType, action: 'none', target: null, rule: decision.rule, reason: decision.reason, inputs, outcome: 'nothing', error: null });
      }
      const [current, proposed] = [await this.prices.vmCost(vm), await this.prices.vmCost(vm, decision.target)];
      if (current.cost && proposed.cost) inputs = { ...inputs, monthlyUsd: { from: current.cost.totalUsd, to: proposed.cost.totalUsd } };
      const decided = { ...base, machine_type: vm.machineType, action: decision.action, target: decision.target, rule: decision.rule, reason: decision.reason, inputs };
      if (policy.mode === 'recommend') return await this.policies.record({ ...decided, outcome: 'recommended', error: null });
      // The cooldown starts once the VM is this run's to resize (a run that finds it taken records
      // that instead), and a failed attempt starts it too, so a change that keeps failing is not
      // retried every run.
      const started = () => this.policies.changed(ref, now);
      // The decision is on the type read before the metrics; a resize (by another run, or a person)
      // that ended since is not undone: the VM is evaluated again on its new type at the next run.
      const claimed = async (plan: { from: string }) => {
        if (plan.from !== vm!.machineType) throw new ChangedMeanwhile(plan.from);
        await started();
      };
      const resizedMeanwhile = (reason: string) => this.policies.record({ ...decided, action: 'none', target: null, rule: 'resized_meanwhile', reason, outcome: 'nothing', error: null });
      let report: ResizeReport;
      try {
        report = await this.using(account, () => this.resizeWithProgress(c, ref, decision.target, progress, claimed));
      } catch (err) {
        if (err instanceof ResizeUnderWay) return await resizing(err.resize);
        if (err instanceof ChangedMeanwhile) {
          return await resizedMeanwhile(`${ref.name} was resized from ${vm.machineType} to ${err.machineType} while this run evaluated it; it is evaluated again on that type at the next run`);
        }
        await started();
        const error = err instanceof SupervisorError ? err.message : 'resize failed unexpectedly';
        await this.deps.audit.record({ actor, action: 'gcloud.autoscale', target: attachmentKey(ref), outcome: 'error', detail: { from: decision.from, to: decision.target } });
        return await this.policies.record({ ...decided, outcome: 'failed', error });
      }
      if (!report.changed) return await resizedMeanwhile(`${ref.name} is on ${decision.target} already: it was resized while this run evaluated it`);
      await this.deps.audit.record({ actor, action: 'gcloud.autoscale', target: attachmentKey(ref), outcome: 'ok', detail: { from: decision.from, to: decision.target, rule: decision.rule } });
      return await this.policies.record({ ...decided, outcome: 'resized', error: null });
    } catch (err) {
      if (!(err instanceof SupervisorError)) throw err;
      // A VM deleted in the console fails every run until its policy is turned off: say so.
      const gone = !vm && err.code === 'not_found' ? "; if the VM was deleted, set its policy's mode to off (gcloud_set_autoscale_policy)" : '';
      return this.policies.record({ ...base, machine_type: vm?.machineType ?? null, action: 'none', target: null, rule: 'error', reason: `could not evaluate ${ref.name}: ${err.message}${gone}`, outcome: 'failed', error: err.message, inputs });
    }
  }

  // ---- cost ----------------------------------------------------------------------------------

  async cost(project?: string) {
    const table = await this.prices.current();
    const { results, failed } = await this.acrossAccounts(project, (account) =>
      this.using(account, async (c) => {
        const priced = await Promise.all((await c.compute.list(account.projectId)).map(async (vm) => ({ vm, ...(await this.prices.vmCost(vm)) })));
        // Why a VM has no price is said once, in leftOut beside the total; a priced VM's note (what its figure does not count) stays with it.
        const vms = priced.map(({ vm, cost, note }) => ({ zone: vm.zone, name: vm.name, status: vm.status, machineType: vm.machineType, monthlyUsd: cost?.totalUsd ?? null, cost, ...(cost && note ? { note } : {}) }));
        const leftOut = priced.filter((p) => !p.cost).map(({ vm, note }) => ({ account: account.name, zone: vm.zone, name: vm.name, machineType: vm.machineType, reason: note ?? 'no price' }));
        const summary = { account: account.name, project: account.projectId, monthlyUsd: cents(vms.reduce((n, v) => n + (v.monthlyUsd ?? 0), 0)), unpriced: leftOut.length, vms };
        return { summary, leftOut };
      }),
    );
    const accounts = results.map((r) => r.summary);
    // A total that silently leaves VMs out reads as the whole bill: say which, beside it.
    const leftOut = results.flatMap((r) => r.leftOut);
    return { priceVersion: table.version, asOf: table.asOf, currency: 'USD' as const, monthlyUsd: cents(accounts.reduce((n, a) => n + a.monthlyUsd, 0)), leftOut, accounts, failed };
  }

  // ---- plumbing ------------------------------------------------------------------------------

  /**
   * One account per Google Cloud project (two keys for one project would count its VMs twice):
   * the one whose last call worked, so a revoked key beside a good one is not the one used.
   */
  private async everyProject(): Promise<Account[]> {
    const working = (r: AccountRow) => r.last_failure_at === null || (r.last_success_at !== null && r.last_success_at > r.last_failure_at);
    const rows = [...(await this.accounts.list())].sort((a, b) => Number(working(b)) - Number(working(a)));
    const seen = new Map<string, Account>();
    for (const r of rows) if (!seen.has(r.project_id)) seen.set(r.project_id, { name: r.name, projectId: r.project_id, clientEmail: r.client_email });
    return [...seen.values()];
  }

  /**
   * `read` for one account (named), or for every project's account. Across accounts, one whose
   * key Google refuses (or that fails otherwise) is reported in `failed` beside the others'
   * answers, rather than losing them all; named, its error is the answer. `zoneUse`: see resolve.
   */
  private async acrossAccounts<T>(project: string | undefined, read: (account: Account) => Promise<T>, zoneUse?: string): Promise<{ results: T[]; failed: AccountFailure[] }> {
    if (project) return { results: [await read(await this.accounts.resolve(project, zoneUse))], failed: [] };
    const accounts = await this.everyProject();
    // An empty answer would read as "no VMs", when there is nothing to look in.
    if (accounts.length === 0) throw new SupervisorError('not_configured', 'no Google Cloud account is stored yet, so there is nothing to look in; add one with gcloud_add_account (a service-account JSON key)');
    const outcomes = await mapLimit(accounts, this.deps.settings.gcloudConcurrency, async (account): Promise<{ result: T } | { failure: AccountFailure }> => {
      try {
        return { result: await read(account) };
      } catch (err) {
        if (!(err instanceof SupervisorError)) throw err;
        return { failure: { account: account.name, project: account.projectId, error: `${err.code}: ${err.message}` } };
      }
    });
    return { results: outcomes.flatMap((o) => ('result' in o ? [o.result] : [])), failed: outcomes.flatMap((o) => ('failure' in o ? [o.failure] : [])) };
  }

  /** A resize with its progress reported, the VM claimed while it runs (see ResizesInFlight.begin); `claimed` runs once it is. */
  private async resizeWithProgress(c: AccountClients, ref: InstanceRef, machineType: string, progress: Report, claimed?: (plan: { from: string }) => Promise<void>): Promise<ResizeReport> {
    let begun = false;
    try {
      return await resize(c.compute, ref, machineType, {
        timeoutMs: this.deps.settings.gcloudOperationTimeoutS * 1000,
        onProgress: ({ step, progress: p }) => progress({ message: `${step} ${ref.name}: ${p.status}${p.progress ? ` ${p.progress}%` : ''}` }),
        begin: async (plan) => {
          await this.inFlight.begin({ ref, account: c.account.name, ...plan, startedAt: this.deps.clock.now() });
          begun = true;
          await claimed?.(plan);
        },
        stillHeld: () => this.inFlight.holds(ref),
      });
    } finally {
      if (begun) await this.inFlight.end(ref);
    }
  }

  private waiting(progress: Report): MutationOptions {
    return { onProgress: (p) => progress({ message: `${p.type} ${p.target}: ${p.status}${p.progress ? ` ${p.progress}%` : ''}`, progress: p.progress, total: 100 }) };
  }

  private async change(actor: string, verb: 'start' | 'stop', args: VmArgs, progress: Report, act: (c: AccountClients, ref: InstanceRef, o: MutationOptions) => Promise<OperationOutcome>) {
    return this.withVm(args, (c, ref) =>
      this.audited(actor, `gcloud.${verb}_vm`, ref, c.account.name, async () => {
        const operation = await act(c, ref, this.waiting(progress));
        const [vm] = await this.withAttachments([await c.compute.get(ref)]);
        return { result: { vm: vm!, operation }, detail: { operation: operation.operation } };
      }),
    );
  }

  /**
   * Runs a change to a VM and audits it either way: one that fails or times out may still have
   * changed the VM (a resize stops it first; a stop Google carries out after our wait), so the
   * attempt is in the audit log with the error, which names the steps that were taken.
   */
  private async audited<T>(actor: string, action: string, ref: InstanceRef, account: string, run: () => Promise<{ result: T; detail: Record<string, unknown> }>): Promise<T> {
    const target = attachmentKey(ref);
    let done: { result: T; detail: Record<string, unknown> };
    try {
      done = await run();
    } catch (err) {
      const error = toSupervisorError(err);
      await this.deps.audit.record({ actor, action, target, outcome: 'error', detail: { account, code: error.code, message: error.message.slice(0, 2000) } });
      throw err;
    }
    await this.deps.audit.record({ actor, action, target, outcome: 'ok', detail: { ...done.detail, account } });
    return done.result;
  }

  private async withAttachments<V extends VmInstance>(vms: V[]): Promise<Array<V & { attachedTo: string | null }>> {
    const attached = await this.attachments.lookup([...new Set(vms.map((v) => v.project))]);
    return vms.map((vm) => ({ ...vm, attachedTo: attached.get(attachmentKey(vm)) ?? null }));
  }

  private async withVm<T>(args: VmArgs, fn: (c: AccountClients, ref: InstanceRef) => Promise<T>): Promise<T> {
    return this.withAccount(args.project, (c) => fn(c, { project: c.account.projectId, zone: args.zone, name: args.instanceName }));
  }

  private async withAccount<T>(project: string, fn: (c: AccountClients) => Promise<T>): Promise<T> {
    const account = await this.accounts.resolve(project);
    return this.using(account, fn);
  }

  /** Runs calls with an account's clients and records on the account how they went. */
  private async using<T>(account: Account, fn: (c: AccountClients) => Promise<T>): Promise<T> {
    try {
      const result = await fn(await this.accounts.clients(account));
      await this.accounts.outcome(account.name);
      return result;
    } catch (err) {
      if (err instanceof SupervisorError && FAILURES_OF_ACCOUNT.has(err.code)) await this.accounts.outcome(account.name, err);
      throw err;
    }
  }
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

/** A machine type the zone offers, else invalid_input naming the field (a dry run's check of what Google would refuse). */
async function assertOffered(c: { compute: Pick<ComputeClient, 'machineType'> }, ref: { project: string; zone: string }, type: string, field: string): Promise<void> {
  await c.compute.machineType(ref.project, ref.zone, type).catch((err: unknown) => {
    if (err instanceof SupervisorError && err.code === 'not_found') throw invalidInput(`${field}: ${type} is not offered in ${ref.zone} (or there is no such zone)`, { field });
    throw err;
  });
}
