// Plans and applies DNS changes: one read of each zone involved, the diff, then batch calls
// of at most 200 operations, falling back to one call per record when a batch is refused
// so one bad record cannot block the rest (and is named in the answer).
import type { Db } from '../core/db.js';
import { SupervisorError, type ErrorCode } from '../core/errors.js';
import type { CloudflareClient, DnsBatch, DnsRecord, Zone } from './client.js';
import type { Change, ChangeLog, RecordMirror } from './changes.js';
import { isOwned, orderOps, planZone, recordInput, sameContent, sameRecord, viewOf, viewOfDesired, type DeleteTarget, type DesiredRecord, type RecordConflict, type RecordOp, type RecordView } from './records.js';
import type { ZoneDirectory } from './zones.js';
import type { Fenced, WriteFence } from './write-fence.js';

/** The Free plan's limit; paid plans allow more, but 200 works everywhere. */
export const BATCH_MAX = 200;
/** Up to this many names, a zone is read with one filtered call per name instead of in full. */
const LOOKUP_BY_NAME_MAX = 5;
/** DNS record lists accept large pages; one call reads most zones whole. */
const ZONE_PAGE = 5000;

export interface DnsPlan {
  create: RecordView[];
  update: Array<{ before: RecordView; after: RecordView }>;
  delete: RecordView[];
  unchanged: number;
  conflicts: RecordConflict[];
}

export interface DnsFailure {
  action: RecordOp['action'];
  name: string;
  type: string;
  /** The refusal's code (conflict for a host clash, 81053/81054, that appeared after the read); not in the answers' schema. */
  code: ErrorCode;
  error: string;
}

export interface DnsOutcome {
  plan: DnsPlan;
  applied: boolean;
  failed: DnsFailure[];
  /** What a dry run could not compare with Cloudflare, and why (empty when everything was checked). */
  notChecked: string[];
}

export interface DnsRequest {
  upserts: DesiredRecord[];
  deletes: DeleteTarget[];
  force: boolean;
  dryRun: boolean;
}

export interface DnsDeps {
  client: CloudflareClient;
  zones: ZoneDirectory;
  db: Db;
  changes: ChangeLog;
  mirror: RecordMirror;
  /** Shared by every daemon on the database: a zone's read-diff-write must not interleave (fenced against an earlier holder's writes). */
  fence: WriteFence;
}

/** What serialises a zone's read-diff-writes across daemons, and names its writes in flight. */
const zoneLockKey = (zone: Zone) => `zone:${zone.id}`;

interface Settled {
  done: Done[];
  failed: Array<{ op: RecordOp; err: unknown }>;
  /** Set when the rest of the ops were not tried. */
  fatal?: { err: unknown; untried: RecordOp[] };
}

/** Errors that no other record would escape: retrying one by one would only repeat them. */
const isFatal = (err: unknown) => !(err instanceof SupervisorError) || ['unavailable', 'not_configured', 'forbidden', 'internal'].includes(err.code);

interface Done {
  op: RecordOp;
  /** The record as Cloudflare answered; absent for deletes. */
  record?: DnsRecord;
}

const emptyPlan = (): DnsPlan => ({ create: [], update: [], delete: [], unchanged: 0, conflicts: [] });

export class DnsService {
  constructor(private readonly deps: DnsDeps) {}

  /** The caller's records grouped by the zone each belongs to. */
  private async byZone(req: DnsRequest): Promise<Map<string, { zone: Zone; upserts: DesiredRecord[]; deletes: DeleteTarget[] }>> {
    const groups = new Map<string, { zone: Zone; upserts: DesiredRecord[]; deletes: DeleteTarget[] }>();
    const group = async (name: string) => {
      const zone = await this.deps.zones.zoneFor(name);
      let g = groups.get(zone.id);
      if (!g) groups.set(zone.id, (g = { zone, upserts: [], deletes: [] }));
      return g;
    };
    for (const r of req.upserts) (await group(r.name)).upserts.push(r);
    for (const d of req.deletes) (await group(d.name)).deletes.push(d);
    return groups;
  }

  async apply(actor: string, operation: string, req: DnsRequest): Promise<DnsOutcome> {
    rejectDuplicates(req.upserts);
    const outcome: DnsOutcome = { plan: emptyPlan(), applied: !req.dryRun, failed: [], notChecked: [] };
    const groups = await this.byZone(req);
    for (const { zone, upserts, deletes } of [...groups.values()].sort((a, b) => a.zone.name.localeCompare(b.zone.name))) {
      await this.deps.fence.run(zoneLockKey(zone), async (fenced) => {
        const names = new Set([...upserts.map((r) => r.name), ...deletes.map((d) => d.name)]);
        const existing = await this.read(zone, names);
        const plan = planZone(zone.name, existing, upserts, deletes, req.force);
        const created = addToPlan(outcome.plan, zone.name, plan.ops);
        outcome.plan.unchanged += plan.unchanged;
        outcome.plan.conflicts.push(...plan.conflicts);
        if (!req.dryRun && plan.ops.length > 0) outcome.failed.push(...(await this.execute(actor, operation, zone, orderOps(plan.ops), fenced, created)));
      });
    }
    return outcome;
  }

  /**
   * A dry run's plan when Cloudflare cannot be asked (no API token): every wanted record is
   * shown as a create, unchecked, and `notChecked` says what was not compared and why.
   */
  unchecked(req: DnsRequest, reason: string): DnsOutcome {
    rejectDuplicates(req.upserts);
    const plan = emptyPlan();
    plan.create = req.upserts.map((r) => viewOfDesired('', r));
    const notChecked = [`existing DNS records (${reason}): each wanted record is shown as a create, its zone unknown${req.deletes.length ? `; ${req.deletes.length} deletion(s) not planned` : ''}`];
    return { plan, applied: false, failed: [], notChecked };
  }

  /** The zone's current records for these names: filtered reads for a few, the whole zone for many. */
  async read(zone: Zone, names: Set<string>): Promise<DnsRecord[]> {
    if (names.size > LOOKUP_BY_NAME_MAX) return this.deps.client.listDnsRecords(zone.id, {}, ZONE_PAGE);
    const lists = await Promise.all([...names].map((name) => this.deps.client.listDnsRecords(zone.id, { 'name.exact': name })));
    return lists.flat();
  }

  /**
   * Sends the ops: one call when there is one, else batches in order. Records what was done
   * as soon as each call returns, so an outage midway leaves the database describing exactly
   * the part that reached Cloudflare. `created` holds the plan's view of each create: it gets
   * the id Cloudflare gave the record.
   */
  private async execute(actor: string, operation: string, zone: Zone, ops: RecordOp[], fenced: Fenced, created: Map<RecordOp, RecordView>): Promise<DnsFailure[]> {
    const failures: DnsFailure[] = [];
    for (let i = 0; i < ops.length; i += BATCH_MAX) {
      const chunk = ops.slice(i, i + BATCH_MAX);
      // Remembered before the next holder may read: the mirror then follows Cloudflare's order of changes.
      const { done, failed, fatal } = await fenced(async () => {
        const settled = await this.send(zone, chunk);
        const { fatal } = settled;
        const errors = [...settled.failed, ...(fatal ? fatal.untried.map((op) => ({ op, err: fatal.err })) : [])];
        await this.remember(actor, operation, zone, settled.done, errors);
        return settled;
      });
      for (const d of done) {
        const view = created.get(d.op);
        if (view && d.record) view.id = d.record.id;
      }
      failures.push(...failed.map(({ op, err }) => failureOf(op, err)));
      if (fatal) throw fatal.err;
    }
    return failures;
  }

  /** One chunk of ops: a call for one, a batch for more, and one by one when the batch is refused as a whole. */
  private async send(zone: Zone, chunk: RecordOp[]): Promise<Settled> {
    try {
      return chunk.length === 1 ? { done: [await this.one(zone, chunk[0]!)], failed: [] } : { done: await this.batch(zone, chunk), failed: [] };
    } catch (err) {
      if (isFatal(err)) return { done: [], failed: [], fatal: { err, untried: chunk } };
      if (chunk.length === 1) return { done: [], failed: [{ op: chunk[0]!, err }] };
      // The batch was refused as a whole (one transaction): find the bad record one by one.
      return this.oneByOne(zone, chunk);
    }
  }

  /** What reached Cloudflare goes into the mirror; every attempt, done or not, into the change log. */
  private async remember(actor: string, operation: string, zone: Zone, done: Done[], errors: Array<{ op: RecordOp; err: unknown }>): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      await this.deps.mirror.gone(zone.id, done.flatMap((d) => (d.op.action === 'delete' ? [d.op.id] : [])), tx);
      await this.deps.mirror.saw(zone, done.flatMap((d) => (d.record ? [d.record] : [])), tx);
      await this.deps.changes.record(actor, operation, [...done.map((d) => changeOf(zone, d.op, d.record)), ...errors.map(({ op, err }) => changeOf(zone, op, undefined, err))], tx);
    });
  }

  private async batch(zone: Zone, ops: RecordOp[]): Promise<Done[]> {
    const body: Required<DnsBatch> = { deletes: [], patches: [], puts: [], posts: [] };
    for (const op of ops) {
      if (op.action === 'delete') body.deletes.push({ id: op.id });
      else if (op.action === 'update') body.puts.push({ id: op.id, ...recordInput(op.record) });
      else body.posts.push(recordInput(op.record));
    }
    const result = await this.deps.client.batchDnsRecords(zone.id, body);
    const answers = { delete: result.deletes, update: result.puts, create: result.posts };
    const next = { delete: 0, update: 0, create: 0 };
    // The answer lists follow the request lists' order, kind by kind.
    return ops.map((op) => ({ op, record: op.action === 'delete' ? undefined : answers[op.action][next[op.action]++] }));
  }

  /** One call per op; stops at an error that would fail every call (outage, bad token). */
  private async oneByOne(zone: Zone, ops: RecordOp[]): Promise<Settled> {
    const settled: Settled = { done: [], failed: [] };
    for (const [i, op] of ops.entries()) {
      try {
        settled.done.push(await this.one(zone, op));
      } catch (err) {
        if (isFatal(err)) return { ...settled, fatal: { err, untried: ops.slice(i) } };
        settled.failed.push({ op, err });
      }
    }
    return settled;
  }

  /** One record, one call. "Already exists" with identical content counts as done, not failed. */
  private async one(zone: Zone, op: RecordOp): Promise<Done> {
    const { client } = this.deps;
    try {
      if (op.action === 'delete') {
        await client.deleteDnsRecord(zone.id, op.id);
        return { op };
      }
      if (op.action === 'update') return { op, record: await client.updateDnsRecord(zone.id, op.id, recordInput(op.record)) };
      return { op, record: await client.createDnsRecord(zone.id, recordInput(op.record)) };
    } catch (err) {
      if (!(err instanceof SupervisorError)) throw err;
      // Deleted by someone else meanwhile: the wanted state holds.
      if (op.action === 'delete' && err.code === 'not_found') return { op };
      if (op.action === 'create' && err.code === 'conflict') {
        const existing = await client.listDnsRecords(zone.id, { 'name.exact': op.record.name, type: op.record.type });
        const twin = existing.find((r) => sameRecord(op.record, r));
        if (twin) return { op, record: twin };
        // 81057: ours already, same content, other settings (another instance got there first): set it as asked.
        const ours = existing.find((r) => isOwned(r) && sameContent(op.record, r));
        if (ours) return { op, record: await client.updateDnsRecord(zone.id, ours.id, recordInput(op.record)) };
      }
      throw err;
    }
  }
}

function rejectDuplicates(upserts: DesiredRecord[]): void {
  const seen = new Set<string>();
  for (const r of upserts) {
    const key = `${r.type} ${r.name}`;
    if (seen.has(key)) throw new SupervisorError('invalid_input', `${key} is asked for twice in one change`, { name: r.name, type: r.type });
    seen.add(key);
  }
}

/** Adds the ops to the plan; returns each create's view, to be given its id once it is made. */
function addToPlan(plan: DnsPlan, zone: string, ops: RecordOp[]): Map<RecordOp, RecordView> {
  const created = new Map<RecordOp, RecordView>();
  for (const op of ops) {
    if (op.action === 'create') {
      const view = viewOfDesired(zone, op.record);
      created.set(op, view);
      plan.create.push(view);
    } else if (op.action === 'update') plan.update.push({ before: viewOf(zone, op.before), after: viewOfDesired(zone, op.record, op.id) });
    else plan.delete.push(viewOf(zone, op.before));
  }
  return created;
}

const opName = (op: RecordOp) => (op.action === 'delete' ? op.before.name : op.record.name);
const opType = (op: RecordOp) => (op.action === 'delete' ? op.before.type : op.record.type);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function failureOf(op: RecordOp, err: unknown): DnsFailure {
  return { action: op.action, name: opName(op), type: opType(op), code: err instanceof SupervisorError ? err.code : 'internal', error: errorText(err) };
}

function changeOf(zone: Zone, op: RecordOp, record: DnsRecord | undefined, err?: unknown): Change {
  const content = op.action === 'delete' ? op.before.content : op.record.content;
  const id = record?.id ?? (op.action === 'create' ? undefined : op.id);
  return {
    action: `dns.${op.action}`,
    target: opName(op),
    outcome: err === undefined ? 'ok' : 'error',
    detail: { zone: zone.name, type: opType(op), content, ...(id ? { recordId: id } : {}), ...(err === undefined ? {} : { error: errorText(err) }) },
  };
}
