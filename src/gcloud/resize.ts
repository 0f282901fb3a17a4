// Changing a VM's machine type: the API only does it on a stopped VM, so a running one is
// stopped, changed and started again, each step waiting for its operation.
//
// A failure midway must not leave a service down on an odd type: if the change fails the VM
// is started again on its old type; if it will not start on the new type, the old type is
// put back and it is started on that. The error then lists every step taken and the state
// the VM was left in, so a person knows exactly where things stand.
import { randomUUID } from 'node:crypto';
import { SupervisorError, conflict, invalidInput } from '../core/errors.js';
import type { ComputeClient, MutationOptions, OperationOutcome } from './compute.js';
import type { InstanceRef } from './instance.js';
import { unfinishedOperation, type OperationProgress } from './zone-operation.js';

export type ResizeStepName = 'stop' | 'setMachineType' | 'start' | 'restoreMachineType' | 'restart';

export interface ResizeStep {
  step: ResizeStepName;
  /** The machine type the step set or started the VM on. */
  machineType: string;
  ok: boolean;
  operation?: string;
  error?: string;
  /** The wait for its operation ended first: Google may still carry it out. */
  pending?: boolean;
}

export interface ResizeReport {
  instance: string;
  from: string;
  to: string;
  wasRunning: boolean;
  /** False when the VM already had that type. */
  changed: boolean;
  steps: ResizeStep[];
  finalStatus: string;
  finalMachineType: string;
}

export interface ResizeOptions {
  onProgress?: (event: { step: ResizeStepName; progress: OperationProgress }) => void;
  /** Called once the VM was read and before anything changes it, only when something will. */
  begin?: (plan: { from: string; to: string; wasRunning: boolean }) => Promise<void>;
  /**
   * Asked before each step after the first: false when the VM is no longer this resize's
   * (another daemon took it over, having taken this one for gone). The resize then stops where it
   * is, with a conflict, leaving the VM to that daemon, which puts it back.
   */
  stillHeld?: () => Promise<boolean>;
  /** Per operation. */
  timeoutMs?: number;
}

/** The part of ComputeClient a resize uses. */
export type ResizeCompute = Pick<ComputeClient, 'get' | 'machineType' | 'stop' | 'start' | 'setMachineType'>;

export async function resize(compute: ResizeCompute, ref: InstanceRef, machineType: string, options: ResizeOptions = {}): Promise<ResizeReport> {
  const vm = await compute.get(ref);
  const instance = `projects/${ref.project}/zones/${ref.zone}/instances/${ref.name}`;
  const from = vm.machineType;
  const report: ResizeReport = { instance, from, to: machineType, wasRunning: vm.status === 'RUNNING', changed: false, steps: [], finalStatus: vm.status, finalMachineType: from };
  if (from === machineType) return report;
  assertResizable(ref, vm.status);
  await offered(compute, ref, machineType);
  await options.begin?.({ from, to: machineType, wasRunning: report.wasRunning });

  let firstError: SupervisorError | undefined;
  const run = async (step: ResizeStepName, type: string, act: (o: MutationOptions) => Promise<OperationOutcome>): Promise<boolean> => {
    if (report.steps.length > 0 && options.stillHeld && !(await options.stillHeld())) throw takenOver(ref, report, step);
    // One requestId per step: sent again, it names the same operation rather than a second one.
    const opts: MutationOptions = { timeoutMs: options.timeoutMs, requestId: randomUUID(), onProgress: (progress) => options.onProgress?.({ step, progress }) };
    try {
      // A step whose wait ran out is still under way (a slow stop): it is waited for once more
      // rather than given up, which left the VM stopped, and the next step refused while it ran.
      const outcome = await act(opts).catch((err: unknown) => (unfinishedOperation(err) ? act(opts) : Promise.reject(err)));
      report.steps.push({ step, machineType: type, ok: true, operation: outcome.operation });
      return true;
    } catch (err) {
      const error = err instanceof SupervisorError ? err : new SupervisorError('internal', `${step} failed unexpectedly`);
      firstError ??= error;
      const pending = unfinishedOperation(error);
      report.steps.push({ step, machineType: type, ok: false, error: error.message, ...(pending ? { pending } : {}) });
      return false;
    }
  };

  if (report.wasRunning && !(await run('stop', from, (o) => compute.stop(ref, o)))) {
    return failed(compute, ref, report, firstError);
  }
  if (!(await run('setMachineType', machineType, (o) => compute.setMachineType(ref, machineType, o)))) {
    if (report.wasRunning) await run('restart', from, (o) => compute.start(ref, o));
    return failed(compute, ref, report, firstError);
  }
  if (report.wasRunning && !(await run('start', machineType, (o) => compute.start(ref, o)))) {
    if (await run('restoreMachineType', from, (o) => compute.setMachineType(ref, from, o))) {
      await run('restart', from, (o) => compute.start(ref, o));
    }
    return failed(compute, ref, report, firstError);
  }
  report.changed = true;
  report.finalStatus = report.wasRunning ? 'RUNNING' : 'TERMINATED';
  report.finalMachineType = machineType;
  return report;
}

function takenOver(ref: InstanceRef, report: ResizeReport, step: ResizeStepName): SupervisorError {
  return conflict(
    `resizing ${ref.name} from ${report.from} to ${report.to} stopped before ${step}: another daemon took the VM over while this one was out of touch with the database, and puts it back (gcloud_get_vm shows its status). Steps done here: ${stepsSaid(report)}`,
    { report },
  );
}

/** The steps taken, each with the type it used and how it went, for an error that tells the story. */
const stepsSaid = (report: ResizeReport): string => report.steps.map((s) => `${s.step} (${s.machineType}) ${s.ok ? 'ok' : `failed: ${s.error}`}`).join('; ');

/** Checked before anything is stopped, so a mistyped type costs no downtime. */
async function offered(compute: ResizeCompute, ref: InstanceRef, machineType: string): Promise<void> {
  try {
    await compute.machineType(ref.project, ref.zone, machineType);
  } catch (err) {
    if (err instanceof SupervisorError && err.code === 'not_found') {
      throw invalidInput(`machine type ${machineType} is not offered in ${ref.zone}; ${ref.name} was not touched`, { machineType, zone: ref.zone });
    }
    throw err;
  }
}

/** Reads where the VM ended up and throws one error that tells the whole story. */
async function failed(compute: ResizeCompute, ref: InstanceRef, report: ResizeReport, cause: SupervisorError | undefined): Promise<never> {
  try {
    const vm = await compute.get(ref);
    report.finalStatus = vm.status;
    report.finalMachineType = vm.machineType;
  } catch {
    report.finalStatus = 'UNKNOWN';
    report.finalMachineType = 'UNKNOWN';
  }
  const failedStep = report.steps.find((s) => !s.ok);
  const steps = stepsSaid(report);
  // A type change whose wait ran out may still be applied after the VM was read: then what was read is not the end.
  const pending = report.steps.find((s) => s.pending && (s.step === 'setMachineType' || s.step === 'restoreMachineType'));
  const maybe = pending ? `, as read right after; the ${pending.step} to ${pending.machineType} had not finished and may still take effect: read the VM again (gcloud_get_vm) before retrying` : '';
  const left =
    report.finalStatus === 'UNKNOWN'
      ? 'its state could not be read afterwards; check it in the Cloud console'
      : `it is now ${report.finalStatus} on ${report.finalMachineType}${maybe}${report.wasRunning && report.finalStatus !== 'RUNNING' ? `${maybe ? '; it is' : ','} not running: start it by hand` : ''}`;
  // Google out of capacity for the new type is for now, but a retry is another stop of a serving
  // VM: a client told to come back in seconds (every unavailable's Retry-After) would cycle it.
  const code = cause?.code ?? 'unavailable';
  const servingAgain = report.steps.some((s) => s.step === 'stop' && s.ok) && report.finalStatus === 'RUNNING';
  const wait = code === 'unavailable' && servingAgain ? { retryAfterSeconds: RETRY_AFTER_STOP_S } : {};
  const retry = 'retryAfterSeconds' in wait ? ` Another try stops it again: wait ${RETRY_AFTER_STOP_S / 60} minutes or more.` : '';
  throw new SupervisorError(
    code,
    `resizing ${ref.name} from ${report.from} to ${report.to} failed at ${failedStep?.step ?? 'an unknown step'}. Steps: ${steps}. The VM was ${report.wasRunning ? 'RUNNING' : 'TERMINATED'} before; ${left}.${retry}`,
    { report, ...wait },
  );
}

/** How long a client is asked to wait before trying again a resize that failed after stopping the VM. */
const RETRY_AFTER_STOP_S = 600;

/**
 * A resize stops a RUNNING VM or changes a TERMINATED one; any other state is refused, by the
 * plan (dry run) as by the resize. SUSPENDED does not settle by itself: it needs a resume.
 */
export function assertResizable(ref: InstanceRef, status: string): void {
  if (status === 'RUNNING' || status === 'TERMINATED') return;
  const instance = `projects/${ref.project}/zones/${ref.zone}/instances/${ref.name}`;
  const next = status === 'SUSPENDED' || status === 'SUSPENDING' ? 'resume it (or stop it) first' : 'try again once it has settled';
  throw conflict(`${ref.name} is ${status}; a resize needs it RUNNING or TERMINATED, so ${next}`, { instance, status });
}
