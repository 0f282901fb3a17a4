// Zone operations: each mutation is an Operation that goes PENDING → RUNNING → DONE over
// time, changing its instance on the way. Time is read lazily: every request first brings
// all operations up to "now", so no timers run inside the fake.
import { randomBytes } from 'node:crypto';
import { zoneLink } from './compute-catalog.js';
import { googleTimestamp, numericId } from './compute-store.js';
import type { OperationFailure, OperationFaultMatch } from './types.js';

export type OperationType = 'insert' | 'delete' | 'start' | 'stop' | 'resume' | 'setMachineType';

/** What the operation does to its instance at each phase; `fail` undoes what `running` did. */
export interface Effects {
  running?: () => void;
  done: () => void;
  fail?: () => void;
}

export interface FakeOperation {
  id: string;
  name: string;
  project: string;
  zone: string;
  type: OperationType;
  instance: string;
  targetId: string;
  user: string;
  requestId?: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  insertTime: number;
  runningAt: number;
  doneAt: number;
  startTime?: number;
  endTime?: number;
  effects: Effects;
  failure?: OperationFailure;
}

export interface Timing {
  pendingMs: number;
  runningMs: number;
}

interface ArmedFailure {
  match: OperationFaultMatch;
  failure: OperationFailure;
  remaining: number;
}

export class OperationStore {
  private readonly ops: FakeOperation[] = [];
  private armed: ArmedFailure[] = [];

  constructor(
    private readonly now: () => number,
    readonly timing: Timing,
  ) {}

  create(fields: Pick<FakeOperation, 'project' | 'zone' | 'type' | 'instance' | 'targetId' | 'user' | 'requestId' | 'effects'>): FakeOperation {
    const now = this.now();
    const op: FakeOperation = {
      ...fields,
      id: numericId(),
      name: `operation-${now}-${randomBytes(7).toString('hex').slice(0, 13)}-${randomBytes(4).toString('hex')}-${randomBytes(4).toString('hex')}`,
      status: 'PENDING',
      insertTime: now,
      runningAt: now + this.timing.pendingMs,
      doneAt: now + this.timing.pendingMs + this.timing.runningMs,
      failure: this.takeFailure(fields),
    };
    this.ops.push(op);
    this.advance();
    return op;
  }

  find(project: string, zone: string, name: string): FakeOperation | undefined {
    return this.ops.find((o) => o.project === project && o.zone === zone && (o.name === name || o.id === name));
  }

  /** The earlier operation a repeated requestId refers to. */
  byRequestId(project: string, zone: string, requestId: string): FakeOperation | undefined {
    return this.ops.find((o) => o.project === project && o.zone === zone && o.requestId === requestId);
  }

  /** An unfinished operation on this instance, which makes the instance "not ready". */
  busy(project: string, zone: string, instance: string): FakeOperation | undefined {
    this.advance();
    return this.ops.find((o) => o.project === project && o.zone === zone && o.instance === instance && o.status !== 'DONE');
  }

  all(): FakeOperation[] {
    return [...this.ops];
  }

  failNext(match: OperationFaultMatch, failure: OperationFailure, count: number): void {
    this.armed.push({ match, failure, remaining: count });
  }

  clearFailures(): void {
    this.armed = [];
  }

  /** Applies every phase change due by now, in the order they fell due. */
  advance(): void {
    const now = this.now();
    type Step = { at: number; op: FakeOperation; to: 'RUNNING' | 'DONE' };
    const steps: Step[] = [];
    for (const op of this.ops) {
      if (op.status === 'PENDING' && op.runningAt <= now) steps.push({ at: op.runningAt, op, to: 'RUNNING' });
      if (op.status !== 'DONE' && op.doneAt <= now) steps.push({ at: op.doneAt, op, to: 'DONE' });
    }
    steps.sort((a, b) => a.at - b.at || (a.to === 'RUNNING' ? -1 : 1));
    for (const { at, op, to } of steps) {
      if (to === 'RUNNING') {
        op.status = 'RUNNING';
        op.startTime = at;
        op.effects.running?.();
      } else {
        if (op.status === 'PENDING') {
          op.startTime = op.runningAt;
          op.effects.running?.();
        }
        op.status = 'DONE';
        op.endTime = at;
        if (op.failure) op.effects.fail?.();
        else op.effects.done();
      }
    }
  }

  /** Milliseconds until this operation is DONE (0 when it is). */
  remaining(op: FakeOperation): number {
    return op.status === 'DONE' ? 0 : Math.max(0, op.doneAt - this.now());
  }

  private takeFailure(op: Pick<FakeOperation, 'project' | 'type' | 'instance'>): OperationFailure | undefined {
    const armed = this.armed.find(
      ({ match }) =>
        (match.project === undefined || match.project === op.project) &&
        (match.operationType === undefined || match.operationType === op.type) &&
        (match.instance === undefined || match.instance === op.instance),
    );
    if (!armed) return undefined;
    armed.remaining -= 1;
    if (armed.remaining <= 0) this.armed = this.armed.filter((a) => a !== armed);
    return armed.failure;
  }
}

const HTTP_MESSAGES: Record<number, string> = { 400: 'BAD REQUEST', 403: 'FORBIDDEN', 404: 'NOT FOUND', 409: 'CONFLICT', 429: 'TOO MANY REQUESTS', 503: 'SERVICE UNAVAILABLE' };

export function operationResource(op: FakeOperation): Record<string, unknown> {
  const zone = zoneLink(op.project, op.zone);
  const progress = op.status === 'DONE' ? 100 : 0;
  const resource: Record<string, unknown> = {
    kind: 'compute#operation',
    id: op.id,
    name: op.name,
    zone,
    clientOperationId: op.requestId,
    operationType: op.type,
    targetLink: `${zone}/instances/${op.instance}`,
    targetId: op.targetId,
    status: op.status,
    user: op.user,
    progress,
    insertTime: googleTimestamp(op.insertTime),
    startTime: op.startTime === undefined ? undefined : googleTimestamp(op.startTime),
    endTime: op.endTime === undefined ? undefined : googleTimestamp(op.endTime),
    selfLink: `${zone}/operations/${op.name}`,
  };
  if (op.status === 'DONE' && op.failure) {
    const status = op.failure.httpStatus ?? 403;
    resource.error = { errors: [{ code: op.failure.code, message: op.failure.message, ...(op.failure.errorDetails ? { errorDetails: op.failure.errorDetails } : {}) }] };
    resource.httpErrorStatusCode = status;
    resource.httpErrorMessage = HTTP_MESSAGES[status] ?? 'ERROR';
  }
  return JSON.parse(JSON.stringify(resource)) as Record<string, unknown>;
}
