// Waiting for a zone operation: zoneOperations.wait holds the call until the operation is
// DONE or about two minutes pass (and may return early when Google is busy), so we call it
// again until DONE or our own deadline, report each change, then surface the operation's
// errors — a DONE operation is not a successful one until its `error` is empty.
import { SupervisorError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { AccessTokenProvider } from './auth.js';
import { dataOf, requestOptions, type ComputeApi, type compute_v1 } from './compute-api.js';
import { codeForHttpStatus } from '../core/http-retry.js';
import { callGoogle, QUOTA_HINT, type CallPolicy } from './google-call.js';

export interface OperationProgress {
  operation: string;
  /** insert, delete, start, stop, setMachineType. */
  type: string;
  /** projects/p/zones/z/instances/name */
  target: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  progress: number;
}

export interface WaitOptions {
  /** Default 10 minutes. */
  timeoutMs?: number;
  onProgress?: (progress: OperationProgress) => void;
}

export interface OperationWaiter {
  api: ComputeApi;
  tokens: AccessTokenProvider;
  policy: CallPolicy;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** Pause between wait calls that came back before DONE. */
  pollIntervalMs: number;
}

/** Google holds operations.wait for up to 2 minutes; the HTTP timeout must outlast that. */
const WAIT_CALL_TIMEOUT_MS = 150_000;

export async function waitForOperation(w: OperationWaiter, project: string, zone: string, started: compute_v1.Schema$Operation, options: WaitOptions = {}): Promise<compute_v1.Schema$Operation> {
  const name = started.name ?? '';
  const deadline = w.clock.now().getTime() + (options.timeoutMs ?? 10 * 60_000);
  let current = started;
  let reported = '';
  const report = (op: compute_v1.Schema$Operation) => {
    const progress = progressOf(op);
    const key = `${progress.status}:${progress.progress}`;
    if (key !== reported) options.onProgress?.(progress);
    reported = key;
  };
  report(current);
  const stillUnfinished = () => {
    const waited = Math.round((options.timeoutMs ?? 600_000) / 1000);
    return new SupervisorError(
      'unavailable',
      `${describe(current)} is still ${current.status ?? 'pending'} after ${waited} s; it may yet finish (Google's operation ${name} in ${zone}): read the VM again (gcloud_get_vm) before retrying`,
      { operation: name, project, zone, status: current.status, unfinished: true },
    );
  };
  while (current.status !== 'DONE') {
    if (w.clock.now().getTime() >= deadline) throw stillUnfinished();
    try {
      current = await callGoogle(
        `compute zoneOperations.wait projects/${project}/zones/${zone}/operations/${name}`,
        w.tokens,
        // Each attempt, retries included, may hold only until our deadline: Google would hold it two minutes past.
        (token) => {
          const leftMs = deadline - w.clock.now().getTime();
          if (leftMs <= 0) throw stillUnfinished();
          return dataOf(w.api.zoneOperations.wait({ project, zone, operation: name }, requestOptions(token, Math.min(WAIT_CALL_TIMEOUT_MS, leftMs))));
        },
        w.policy,
      );
    } catch (err) {
      // A wait cut short by our own deadline is the operation not finishing in time, not Google failing.
      if (err instanceof SupervisorError && err.code === 'unavailable' && w.clock.now().getTime() >= deadline) throw stillUnfinished();
      throw err;
    }
    report(current);
    if (current.status !== 'DONE') await w.sleep(w.pollIntervalMs);
  }
  const errors = current.error?.errors ?? [];
  if (errors.length > 0) {
    const said = errors.map((e) => `${e.code ?? 'ERROR'}: ${e.message ?? ''}`.trim()).join('; ');
    const hint = errors.some((e) => e.code === 'QUOTA_EXCEEDED') ? ` (${QUOTA_HINT})` : '';
    throw new SupervisorError(codeForHttpStatus(current.httpErrorStatusCode ?? undefined), `${describe(current)} failed: ${said}${hint}`, {
      operation: name,
      project,
      zone,
      errors: errors.map((e) => ({ code: e.code, message: e.message })),
      httpStatus: current.httpErrorStatusCode,
    });
  }
  return current;
}

function progressOf(op: compute_v1.Schema$Operation): OperationProgress {
  const status = op.status === 'DONE' || op.status === 'RUNNING' ? op.status : 'PENDING';
  return { operation: op.name ?? '', type: op.operationType ?? '', target: targetOf(op), status, progress: op.progress ?? 0 };
}

/** "stop of projects/p/zones/z/instances/vm-1" */
function describe(op: compute_v1.Schema$Operation): string {
  return `${op.operationType ?? 'operation'} of ${targetOf(op)}`;
}

function targetOf(op: compute_v1.Schema$Operation): string {
  const link = op.targetLink ?? '';
  const at = link.indexOf('projects/');
  return at >= 0 ? link.slice(at) : link;
}

/** The wait for an operation ran out before it was DONE (Google may still carry it out), unlike an operation that ended in an error. */
export const unfinishedOperation = (err: unknown): err is SupervisorError => err instanceof SupervisorError && err.details.unfinished === true;
