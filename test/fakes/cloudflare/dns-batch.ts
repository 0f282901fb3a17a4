// POST /zones/{z}/dns_records/batch: deletes, patches, puts, posts in one transaction.
import { ApiError, fail, ok } from './envelope.js';
import { createRecord, deleteRecord, idOf, patchRecord, replaceRecord, zoneOrRouteError, type DnsDeps } from './dns-ops.js';
import { bodyObject, type Route } from './router.js';
import type { BatchKind, DnsRecord, Zone } from './types.js';

/** Free plan limit; Pro and above allow 3,500 operations per batch. */
export const BATCH_LIMIT = 200;

/** The documented execution order, whatever order the body lists them in. */
const ORDER: BatchKind[] = ['deletes', 'patches', 'puts', 'posts'];

export type BatchRejector = (op: { kind: BatchKind; body: unknown }) => boolean;

export function batchRoute(deps: DnsDeps, rejector: { current?: BatchRejector }): Route {
  return {
    method: 'POST',
    pattern: '/zones/:zone/dns_records/batch',
    access: 'dns',
    handle: (ctx) => {
      const zone = zoneOrRouteError(deps, ctx.params.zone ?? '', ctx.fullPath);
      const ops = readOps(bodyObject(ctx.body));
      const total = ORDER.reduce((n, kind) => n + ops[kind].length, 0);
      if (total > BATCH_LIMIT) {
        // The limit is documented; the wording of the refusal was not found, so this text is the fake's.
        throw fail(400, 1004, `DNS Validation Error: a batch may hold at most ${BATCH_LIMIT} operations, got ${total}`);
      }
      // All-or-nothing: the API runs the batch in one database transaction.
      const snapshot = deps.records.all(zone.id);
      try {
        return ok(apply(deps, zone, ops, rejector.current));
      } catch (err) {
        if (err instanceof ApiError) deps.records.restore(zone.id, snapshot);
        throw err;
      }
    },
  };
}

function readOps(body: Record<string, unknown>): Record<BatchKind, Record<string, unknown>[]> {
  const read = (kind: BatchKind) => {
    const list = body[kind] ?? [];
    if (!Array.isArray(list)) throw fail(400, 1004, 'DNS Validation Error');
    return list.map(bodyObject);
  };
  return { deletes: read('deletes'), patches: read('patches'), puts: read('puts'), posts: read('posts') };
}

function apply(
  deps: DnsDeps,
  zone: Zone,
  ops: Record<BatchKind, Record<string, unknown>[]>,
  reject: BatchRejector | undefined,
): Record<BatchKind, DnsRecord[]> {
  const run: Record<BatchKind, (op: Record<string, unknown>) => DnsRecord> = {
    deletes: (op) => deleteRecord(deps, zone, idOf(op)),
    patches: (op) => patchRecord(deps, zone, idOf(op), op),
    puts: (op) => replaceRecord(deps, zone, idOf(op), op),
    posts: (op) => createRecord(deps, zone, op),
  };
  const result: Record<BatchKind, DnsRecord[]> = { deletes: [], patches: [], puts: [], posts: [] };
  for (const kind of ORDER) {
    for (const op of ops[kind]) {
      // Test hook: refuse as the API refuses invalid records, failing the whole batch.
      if (reject?.({ kind, body: op })) throw fail(400, 1004, 'DNS Validation Error');
      result[kind].push(run[kind](op));
    }
  }
  return result;
}
