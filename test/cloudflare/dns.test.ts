// create_cname, create_a_record, delete_dns_record, list_dns_records and the DNS half of
// sync_tunnel, called through the operation catalog against the fake Cloudflare API, on both
// storage backends: races, retries and outages, ownership, batching and its fallback,
// idempotence, zones, dry runs, pagination, and that the API token leaks nowhere.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, beforeEach, describe, test } from 'node:test';
import { adminPrincipal } from '../../src/core/principal.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { ManualClock } from '../../src/core/clock.js';
import { SupervisorError } from '../../src/core/errors.js';
import { skipReason, testBackends, type Backend } from '../helpers/db.js';
import { capturedLogLines, openTestServices } from '../helpers/services.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { Rest, expectError, expectOk } from '../http/client.js';
import { startFakeCloudflare } from '../fakes/cloudflare/index.js';
import type { z } from 'zod';
import type { dnsOutcome, recordView } from '../../src/cloudflare/schemas.js';
import { ALL_PERMISSIONS, openCloudflareFixture, refusalRecorder, TOKEN, type CloudflareFixture } from './fixture.js';
import { addProject } from '../helpers/projects.js';
import { within } from '../helpers/wait.js';
import { COMMENT_INPUT_MAX } from '../../src/cloudflare/schemas.js';

const admin = adminPrincipal('test-admin');

type View = z.output<typeof recordView>;
type Outcome = z.output<typeof dnsOutcome>;
type RecordAnswer = Outcome & { hostname: string; changed: boolean; record: View | null };
type DeleteAnswer = Outcome & { hostname: string; deleted: number };
interface SyncAnswer {
  changed: boolean;
  written: boolean;
  restarted: boolean;
  dns: Outcome;
}
interface ChangeItem {
  action: string;
  target: string;
  outcome: 'ok' | 'error';
  operation: string;
  detail: Record<string, unknown>;
}

/** Every error an operation answered in this file, for the token leak scan. */
const errorsSeen: SupervisorError[] = [];

/** Awaits a refusal with this code (and message), and keeps it for the leak scan. */
const refused = refusalRecorder(errorsSeen);
/** The refused field, as a handler names it (field) or the input schema does (fields, the first). */
const fieldOf = (err: SupervisorError) => err.details.field ?? (err.details.fields as Array<{ field: string }> | undefined)?.[0]?.field;

const cname = async (f: CloudflareFixture, hostname: string, target: string, extra: Record<string, unknown> = {}) =>
  (await f.invoke('create_cname', { hostname, target, ...extra })) as unknown as RecordAnswer;
const aRecord = async (f: CloudflareFixture, hostname: string, address: string, extra: Record<string, unknown> = {}) =>
  (await f.invoke('create_a_record', { hostname, address, ...extra })) as unknown as RecordAnswer;
const del = async (f: CloudflareFixture, input: Record<string, unknown>) => (await f.invoke('delete_dns_record', input)) as unknown as DeleteAnswer;
const sync = async (f: CloudflareFixture, input: Record<string, unknown> = {}) => (await f.invoke('sync_tunnel', input)) as unknown as SyncAnswer;

/** Calls that could change something at Cloudflare. */
const writes = (f: CloudflareFixture) => f.fake.calls.filter((c) => c.method !== 'GET');
const named = (f: CloudflareFixture, zoneId: string, name: string) => f.fake.records(zoneId).filter((r) => r.name === name);

interface BatchCall {
  zoneId: string;
  size: number;
  status: number;
  names: string[];
}
function batchCalls(f: CloudflareFixture): BatchCall[] {
  return f.fake.calls
    .filter((c) => c.method === 'POST' && c.path.endsWith('/dns_records/batch'))
    .map((c) => {
      const body = c.body as Record<string, Array<{ name?: string; id?: string }> | undefined>;
      const ops = ['deletes', 'patches', 'puts', 'posts'].flatMap((kind) => body[kind] ?? []);
      return { zoneId: c.path.split('/')[2]!, size: ops.length, status: c.status, names: ops.map((o) => o.name ?? o.id ?? '') };
    });
}
const singlePosts = (f: CloudflareFixture, zoneId: string) => f.fake.calls.filter((c) => c.method === 'POST' && c.path === `/zones/${zoneId}/dns_records`);

async function changesFor(f: CloudflareFixture, target: string): Promise<ChangeItem[]> {
  return ((await f.invoke('list_cloudflare_changes', { target, limit: 200 })).items as ChangeItem[]);
}

async function mirrorRows(f: CloudflareFixture, name: string): Promise<Array<{ zone_name: string; type: string; content: string; owned: boolean }>> {
  const { rows } = await f.services.db.query<{ zone_name: string; type: string; content: string; owned: boolean }>(
    'SELECT zone_name, type, content, owned FROM dns_records WHERE name = $1 ORDER BY type',
    [name],
  );
  return rows;
}

async function allRoutes(f: CloudflareFixture, limit = 200): Promise<Array<{ hostname: string; path: string; source: string }>> {
  const out: Array<{ hostname: string; path: string; source: string }> = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const answer = await f.invoke('list_tunnel_routes', { limit, ...(cursor ? { cursor } : {}) });
    out.push(...(answer.items as Array<{ hostname: string; path: string; source: string }>));
    cursor = (answer.nextCursor as string | null) ?? undefined;
    if (!cursor) return out;
  }
  throw new Error('list_tunnel_routes never ended');
}

/** A port project whose allocations carry these hostnames (the routes sync_tunnel turns into CNAMEs). */
async function allocateHostnames(f: CloudflareFixture, project: string, start: number, hostnames: string[]): Promise<void> {
  await addProject(f.services, 'test', { name: project, range: { start, end: start + Math.max(hostnames.length, 10) + 9 } });
  for (const [i, hostname] of hostnames.entries()) await f.services.ports.allocate(admin, { project, service: `s${i}`, hostname });
}

for (const backend of testBackends()) {
  describe(`DNS records through the catalog (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    let root: string;
    let dev: string;
    before(async () => {
      errorsSeen.length = 0;
      f = await openCloudflareFixture(backend);
      root = f.zones.root.id;
      dev = f.zones.dev.id;
    });
    after(() => f?.close());
    beforeEach(() => {
      f.fake.clearFaults();
      f.fake.resetCalls();
      f.waits.length = 0;
    });

    describe('races', () => {
      test('10 concurrent create_cname for one hostname: one record, ten successes that agree', async () => {
        const answers = await Promise.all(Array.from({ length: 10 }, () => cname(f, 'same.example.com', 'origin.example.net')));
        const records = named(f, root, 'same.example.com');
        assert.equal(records.length, 1, 'exactly one record');
        assert.equal(records[0]!.content, 'origin.example.net');
        assert.equal(singlePosts(f, root).length, 1, 'one create call');
        for (const a of answers) {
          assert.equal(a.hostname, 'same.example.com');
          assert.equal(a.applied, true);
          assert.deepEqual(a.failed, []);
          assert.deepEqual(a.plan.conflicts, []);
        }
        const creator = answers.filter((a) => a.changed);
        assert.equal(creator.length, 1, 'one call created it');
        assert.deepEqual(creator[0]!.plan.create.map((r) => [r.name, r.content, r.owned]), [['same.example.com', 'origin.example.net', true]]);
        assert.equal(creator[0]!.record?.content, 'origin.example.net');
        // The other nine found it already right.
        assert.ok(answers.filter((a) => !a.changed).every((a) => a.plan.unchanged === 1 && a.record === null && a.plan.create.length + a.plan.update.length === 0));
        assert.equal((await mirrorRows(f, 'same.example.com')).length, 1);
      });

      test('two supervisors (separate processes, no shared lock) racing on one hostname leave one record', async () => {
        const peer = await openTestServices(backend, { SUPERVISOR_CLOUDFLARE_API_URL: f.fake.url }, { sleep: async () => undefined });
        try {
          await peer.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: TOKEN });
          const other = new LocalInvoker(peer, admin, 'internal');
          const input = { hostname: 'raced.example.com', target: 'origin.example.net' };
          const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? f.invoke('create_cname', input) : other.invoke('create_cname', input))));
          assert.equal(answers.length, 10);
          const [stored] = named(f, root, 'raced.example.com');
          assert.equal(named(f, root, 'raced.example.com').length, 1);
          assert.ok(answers.filter((a) => a.changed).length >= 1);
          // Whoever wrote it, every answer describes the one record that is there now.
          for (const a of answers) {
            assert.equal(a.hostname, 'raced.example.com');
            const record = a.record as { type: string; content: string } | null;
            if (a.changed) assert.deepEqual([record?.type, record?.content], [stored!.type, stored!.content]);
            else assert.equal(record, null);
          }
          assert.equal(stored!.content, 'origin.example.net');
        } finally {
          await peer.close();
        }
      });
    });

    describe('retries and outages', () => {
      test('429 twice then 200: the create succeeds, and the waits are the Retry-After the fake sent', async () => {
        f.fake.failNext(1, { delayMs: 0 }, '/dns_records'); // the read goes through
        f.fake.failNext(2, { status: 429, retryAfterSeconds: 7 }, '/dns_records'); // the create is throttled twice
        const answer = await cname(f, 'throttled.example.com', 'origin.example.net');
        assert.equal(answer.changed, true);
        assert.deepEqual(singlePosts(f, root).map((c) => c.status), [429, 429, 200]);
        assert.deepEqual(f.waits, [7000, 7000]);
        assert.equal(named(f, root, 'throttled.example.com').length, 1);
      });

      test('500 forever on the create: unavailable naming the call; no mirror row, the attempt logged as error, no record', async () => {
        f.fake.failNext(1, { delayMs: 0 }, '/dns_records');
        f.fake.failAlways({ status: 500 }, '/dns_records');
        const err = await refused(cname(f, 'outage.example.com', 'origin.example.net'), 'unavailable', new RegExp(`POST /zones/${root}/dns_records failed after 5 attempts`));
        assert.match(err.message, /HTTP 500/);
        assert.match(err.message, /10001 Internal Server Error/);
        assert.equal(f.waits.length, 4, 'four backoff waits, recorded not slept');
        assert.ok(f.waits.every((ms) => ms > 0 && ms <= 30_000));
        f.fake.clearFaults();
        assert.deepEqual(named(f, root, 'outage.example.com'), []);
        assert.deepEqual(await mirrorRows(f, 'outage.example.com'), []);
        const changes = await changesFor(f, 'outage.example.com');
        assert.deepEqual(changes.map((c) => [c.operation, c.action, c.outcome]), [['create_cname', 'dns.create', 'error']]);
        assert.match(String(changes[0]!.detail.error), /failed after 5 attempts/);
        assert.equal(changes[0]!.detail.content, 'origin.example.net');
      });

      test('500 forever on the read: unavailable naming the read, nothing attempted, nothing logged', async () => {
        f.fake.failAlways({ status: 503 }, '/dns_records');
        await refused(cname(f, 'readfail.example.com', 'origin.example.net'), 'unavailable', new RegExp(`GET /zones/${root}/dns_records failed after 5 attempts: HTTP 503`));
        assert.deepEqual(writes(f), []);
        assert.deepEqual(await changesFor(f, 'readfail.example.com'), []);
      });

      test('an outage between two zones: the database holds exactly the zone that reached Cloudflare', async () => {
        const devNames = ['o1.dev.example.com', 'o2.dev.example.com', 'o3.dev.example.com'];
        const rootNames = ['o1.example.com', 'o2.example.com', 'o3.example.com'];
        await allocateHostnames(f, 'outage', 32000, [...devNames, ...rootNames]);
        // Zones go in name order: dev.example.com's batch passes, example.com's fails for good.
        f.fake.failNext(1, { delayMs: 0 }, '/dns_records/batch');
        f.fake.failAlways({ status: 500 }, '/dns_records/batch');
        await refused(sync(f), 'unavailable', new RegExp(`POST /zones/${root}/dns_records/batch failed after 5 attempts`));
        f.fake.clearFaults();
        for (const name of devNames) {
          assert.equal(named(f, dev, name).length, 1);
          assert.equal((await mirrorRows(f, name)).length, 1);
          assert.deepEqual((await changesFor(f, name)).map((c) => c.outcome), ['ok']);
        }
        for (const name of rootNames) {
          assert.deepEqual(named(f, root, name), []);
          assert.deepEqual(await mirrorRows(f, name), []);
          assert.deepEqual((await changesFor(f, name)).map((c) => [c.action, c.outcome]), [['dns.create', 'error']]);
        }
        f.fake.resetCalls();
        const again = await sync(f);
        assert.deepEqual(again.dns.plan.create.map((r) => r.name).sort(), rootNames);
        assert.deepEqual(batchCalls(f).map((b) => [b.zoneId, b.size]), [[root, 3]]);
        for (const name of rootNames) assert.equal(named(f, root, name).length, 1);
      });
    });

    describe("a tunnel route's hostname", () => {
      test('its CNAME is not re-pointed nor deleted by hand without force: the next sync would quietly put it back', async () => {
        await f.invoke('add_tunnel_route', { hostname: 'routed.example.com', service: 'http://localhost:4321' });
        const before = named(f, root, 'routed.example.com');
        assert.equal(before.length, 1);
        f.fake.resetCalls();
        const said = /^routed\.example\.com is a tunnel route's hostname, whose CNAME sync_tunnel keeps pointing at the tunnel; change or remove the route/;
        await refused(cname(f, 'routed.example.com', 'elsewhere.example.net'), 'conflict', said);
        await refused(aRecord(f, 'routed.example.com', '192.0.2.44'), 'conflict', said);
        await refused(del(f, { hostname: 'routed.example.com' }), 'conflict', said);
        assert.deepEqual(writes(f), []);
        assert.deepEqual(named(f, root, 'routed.example.com'), before);
        // Forced, it is the admin's call.
        await cname(f, 'routed.example.com', 'elsewhere.example.net', { force: true });
        assert.equal(named(f, root, 'routed.example.com')[0]!.content, 'elsewhere.example.net');
        await f.invoke('remove_tunnel_route', { hostname: 'routed.example.com', keepDns: true });
        await del(f, { hostname: 'routed.example.com' });
      });

      test("a port allocation's hostname: the refusal says to change the allocation, which remove_tunnel_route refuses", async () => {
        await addProject(f.services, 'test', { name: 'dnsalloc', range: { start: 21300, end: 21309 } });
        await f.invoke('allocate_port', { project: 'dnsalloc', service: 'web', hostname: 'alloc-routed.example.com' });
        const err = await refused(cname(f, 'alloc-routed.example.com', 'elsewhere.example.net'), 'conflict');
        assert.match(err.message, /; change the hostname of port allocation dnsalloc\/web \(allocate_port with hostname null, or release_port\), or pass force$/);
        await refused(f.invoke('remove_tunnel_route', { hostname: 'alloc-routed.example.com' }), 'conflict', /hostname of port allocation dnsalloc\/web/);
        await f.invoke('release_port', { project: 'dnsalloc', service: 'web' });
      });

      test('removing a route that has a path, without it, says which paths the hostname has', async () => {
        await f.invoke('add_tunnel_route', { hostname: 'paths.example.com', service: 'http://localhost:4322', path: '^/v2' });
        const err = await refused(f.invoke('remove_tunnel_route', { hostname: 'paths.example.com' }), 'not_found');
        assert.equal(err.message, 'no tunnel route paths.example.com; paths.example.com has a route with path ^/v2: give it as path');
        await f.invoke('remove_tunnel_route', { hostname: 'paths.example.com', path: '^/v2' });
      });
    });

    describe('records made by someone else', () => {
      test('not changed by create_cname or create_a_record, not deleted without force (conflict naming the record)', async () => {
        f.fake.addRecord(root, { type: 'CNAME', name: 'handmade.example.com', content: 'someone.else.net', ttl: 300 });
        f.fake.addRecord(root, { type: 'A', name: 'handmade-a.example.com', content: '192.0.2.10', ttl: 3600 });
        const before = [...named(f, root, 'handmade.example.com'), ...named(f, root, 'handmade-a.example.com')];
        f.fake.resetCalls();

        const named1 = /CNAME handmade\.example\.com → someone\.else\.net/;
        const err = await refused(cname(f, 'handmade.example.com', 'mine.example.net'), 'conflict', named1);
        assert.match(err.message, /force/);
        assert.equal((err.details.existing as View).owned, false);
        await refused(aRecord(f, 'handmade.example.com', '203.0.113.5'), 'conflict', named1);
        await refused(aRecord(f, 'handmade-a.example.com', '203.0.113.5'), 'conflict', /A handmade-a\.example\.com → 192\.0\.2\.10/);
        await refused(cname(f, 'handmade-a.example.com', 'mine.example.net'), 'conflict', /A handmade-a\.example\.com → 192\.0\.2\.10/);
        await refused(f.invoke('delete_dns_record', { hostname: 'handmade.example.com' }), 'conflict', named1);
        await refused(f.invoke('delete_dns_record', { hostname: 'Handmade-A.example.com', type: 'A' }), 'conflict', /A handmade-a\.example\.com → 192\.0\.2\.10/);
        assert.deepEqual(writes(f), [], 'no write call was made');
        assert.deepEqual([...named(f, root, 'handmade.example.com'), ...named(f, root, 'handmade-a.example.com')], before);

        // A dry run shows the refusal instead of throwing it.
        const plan = await cname(f, 'handmade.example.com', 'mine.example.net', { dryRun: true });
        assert.deepEqual(plan.plan.conflicts.map((c) => [c.name, c.type, c.existing.content]), [['handmade.example.com', 'CNAME', 'someone.else.net']]);
        assert.deepEqual(writes(f), []);
      });

      test('a record someone makes between our read and our create: conflict naming it (81053), nothing changed', async () => {
        f.fake.failNext(1, { delayMs: 0 }, '/dns_records');
        f.fake.failNext(1, { delayMs: 150 }, '/dns_records');
        const pending = cname(f, 'late.example.com', 'origin.example.net');
        await within(5_000, 'the create call', () => singlePosts(f, root).length > 0);
        f.fake.addRecord(root, { type: 'A', name: 'late.example.com', content: '192.0.2.50' });
        const err = await refused(pending, 'conflict', /CNAME late\.example\.com.*81053/);
        assert.deepEqual((err.details.failed as Array<{ code: string }>).map((x) => x.code), ['conflict']);
        assert.deepEqual(named(f, root, 'late.example.com').map((r) => [r.type, r.content]), [['A', '192.0.2.50']]);
        assert.deepEqual((await changesFor(f, 'late.example.com')).map((c) => [c.action, c.outcome]), [['dns.create', 'error']]);
        assert.deepEqual(await mirrorRows(f, 'late.example.com'), []);
      });

      test('with force: the CNAME is taken over (one PUT), the A record replaced by a CNAME, and delete deletes', async () => {
        const [foreign] = named(f, root, 'handmade.example.com');
        f.fake.resetCalls();
        const taken = await cname(f, 'handmade.example.com', 'mine.example.net', { force: true });
        assert.equal(taken.changed, true);
        assert.deepEqual(taken.plan.update.map((u) => [u.before.id, u.before.owned, u.after.content]), [[foreign!.id, false, 'mine.example.net']]);
        assert.deepEqual(writes(f).map((c) => [c.method, c.path]), [['PUT', `/zones/${root}/dns_records/${foreign!.id}`]]);
        const after = named(f, root, 'handmade.example.com');
        assert.equal(after.length, 1);
        assert.equal(after[0]!.content, 'mine.example.net');
        assert.match(after[0]!.comment ?? '', /^managed-by:supervisor/);

        f.fake.resetCalls();
        const replaced = await cname(f, 'handmade-a.example.com', 'mine.example.net', { force: true });
        assert.deepEqual(replaced.plan.delete.map((r) => [r.type, r.content]), [['A', '192.0.2.10']]);
        assert.deepEqual(replaced.plan.create.map((r) => [r.type, r.content]), [['CNAME', 'mine.example.net']]);
        assert.deepEqual(named(f, root, 'handmade-a.example.com').map((r) => [r.type, r.content]), [['CNAME', 'mine.example.net']]);
        assert.deepEqual(batchCalls(f).map((b) => b.size), [2], 'the delete and the create in one transaction');

        f.fake.addRecord(root, { type: 'AAAA', name: 'handmade6.example.com', content: '2001:db8::10' });
        const deleted = await del(f, { hostname: 'handmade6.example.com', force: true });
        assert.equal(deleted.deleted, 1);
        assert.deepEqual(named(f, root, 'handmade6.example.com'), []);
      });
    });

    describe('bulk changes', () => {
      test('a sync that creates 300 records uses batch calls of at most 200 operations', async () => {
        const hostnames = Array.from({ length: 300 }, (_, i) => (i < 260 ? `bulk${i}.example.com` : `bulk${i}.dev.example.com`));
        await allocateHostnames(f, 'bulk', 30000, hostnames);
        f.fake.resetCalls();
        const first = await sync(f);
        assert.equal(first.dns.plan.create.length, 300);
        assert.deepEqual(first.dns.failed, []);
        const batches = batchCalls(f);
        assert.ok(batches.every((b) => b.size <= 200 && b.status === 200), JSON.stringify(batches.map((b) => b.size)));
        assert.deepEqual(batches.map((b) => [b.zoneId, b.size]), [[dev, 40], [root, 200], [root, 60]]);
        assert.equal(singlePosts(f, root).length + singlePosts(f, dev).length, 0, 'no record went one by one');
        const target = `${f.tunnelId}.cfargotunnel.com`;
        assert.equal(f.fake.records(root).filter((r) => r.name.startsWith('bulk') && r.content === target).length, 260);
        assert.equal(f.fake.records(dev).filter((r) => r.name.startsWith('bulk') && r.content === target).length, 40);
        const { rows } = await f.services.db.query<{ n: number }>("SELECT count(*)::int AS n FROM dns_records WHERE name LIKE 'bulk%'");
        assert.equal(rows[0]!.n, 300);
        // At most one read per zone and a handful of writes: the number of calls follows the batches, not the records.
        assert.ok(f.fake.calls.length <= 10, `${f.fake.calls.length} calls`);

        f.fake.resetCalls();
        const second = await sync(f);
        assert.deepEqual(writes(f), []);
        assert.ok(second.dns.plan.unchanged >= 300);
      });

      test('a batch the fake rejects falls back to one call per record, and all of them are applied', async () => {
        const names = ['fa0.example.com', 'fa1.example.com', 'fa2.example.com', 'fa3.example.com'];
        await allocateHostnames(f, 'fallback', 31000, names);
        f.fake.rejectBatchIf(({ body }) => (body as { name?: string }).name === 'fa2.example.com');
        f.fake.resetCalls();
        const answer = await sync(f);
        assert.deepEqual(batchCalls(f).map((b) => [b.size, b.status]), [[4, 400]]);
        assert.deepEqual(singlePosts(f, root).map((c) => [(c.body as { name: string }).name, c.status]), names.map((n) => [n, 200]));
        assert.deepEqual(answer.dns.failed, []);
        for (const name of names) assert.equal(named(f, root, name).length, 1);
      });

      test('one record Cloudflare refuses: the batch falls back, dns.failed names it, the others are applied', async () => {
        const good = ['fb0.example.com', 'fb1.example.com', 'fb2.example.com'];
        await allocateHostnames(f, 'fallback2', 31100, [...good, 'clash.example.com']);
        // Someone adds an A record for clash.example.com by hand while our batch is on its way:
        // Cloudflare refuses the batch as a whole (81053), and then that one record alone.
        f.fake.rejectBatchIf(({ body }) => (body as { name?: string }).name === 'clash.example.com');
        f.fake.failNext(1, { delayMs: 150 }, '/dns_records/batch');
        const pending = sync(f);
        await within(5_000, 'the batch call', () => batchCalls(f).length > 0);
        f.fake.addRecord(root, { type: 'A', name: 'clash.example.com', content: '192.0.2.44' });
        const answer = await pending;
        assert.deepEqual(batchCalls(f).map((b) => [b.size, b.status]), [[4, 400]]);
        assert.deepEqual(answer.dns.failed.map((x) => [x.action, x.type, x.name]), [['create', 'CNAME', 'clash.example.com']]);
        assert.match(answer.dns.failed[0]!.error, /81053/);
        for (const name of good) assert.equal(named(f, root, name).length, 1, name);
        assert.deepEqual(named(f, root, 'clash.example.com').map((r) => [r.type, r.content]), [['A', '192.0.2.44']], 'the hand-made record is untouched');
        assert.deepEqual((await changesFor(f, 'clash.example.com')).map((c) => [c.action, c.outcome]), [['dns.create', 'error']]);
        assert.deepEqual(await mirrorRows(f, 'clash.example.com'), []);
        for (const name of good) assert.equal((await mirrorRows(f, name)).length, 1);

        // The next sync sees the hand-made record and reports it as a conflict instead of trying again.
        f.fake.clearFaults();
        f.fake.resetCalls();
        const next = await sync(f);
        assert.deepEqual(writes(f), []);
        assert.deepEqual(next.dns.plan.conflicts.map((c) => c.name), ['clash.example.com']);
      });
    });

    describe('idempotence and normalisation', () => {
      test('the same create_cname twice: the second makes no write call', async () => {
        const first = await cname(f, 'twice.example.com', 'origin.example.net');
        assert.equal(first.changed, true);
        assert.equal(first.record?.id, named(f, root, 'twice.example.com')[0]!.id, 'a record just created is answered with its id');
        f.fake.resetCalls();
        const second = await cname(f, 'twice.example.com', 'origin.example.net');
        assert.equal(second.changed, false);
        assert.equal(second.plan.unchanged, 1);
        assert.deepEqual(writes(f), []);
      });

      test('upper-case and trailing-dot hostnames and targets are the same record', async () => {
        await cname(f, 'norm.example.com', 'origin.example.net');
        f.fake.resetCalls();
        const again = await cname(f, 'NORM.Example.COM.', 'Origin.EXAMPLE.net.');
        assert.equal(again.hostname, 'norm.example.com');
        assert.equal(again.changed, false);
        assert.deepEqual(writes(f), []);
        assert.equal(named(f, root, 'norm.example.com').length, 1);

        await aRecord(f, 'six.example.com', '2001:DB8:0:0:0:0:0:1');
        assert.deepEqual(named(f, root, 'six.example.com').map((r) => [r.type, r.content]), [['AAAA', '2001:db8::1']]);
        f.fake.resetCalls();
        assert.equal((await aRecord(f, 'Six.Example.com', '2001:db8::1')).changed, false);
        assert.deepEqual(writes(f), []);
      });

      test('a proxied record given a TTL is stored with TTL 1 and does not loop; an unproxied TTL is kept', async () => {
        const first = await cname(f, 'ttl.example.com', 'origin.example.net', { proxied: true, ttl: 300 });
        assert.equal(first.record?.ttl, 1);
        assert.equal(named(f, root, 'ttl.example.com')[0]!.ttl, 1);
        f.fake.resetCalls();
        for (let i = 0; i < 3; i++) assert.equal((await cname(f, 'ttl.example.com', 'origin.example.net', { proxied: true, ttl: 300 })).changed, false);
        assert.deepEqual(writes(f), []);

        await cname(f, 'ttl2.example.com', 'origin.example.net', { proxied: false, ttl: 300 });
        f.fake.resetCalls();
        assert.equal((await cname(f, 'ttl2.example.com', 'origin.example.net', { proxied: false, ttl: 300 })).changed, false);
        assert.deepEqual(writes(f), []);
        const longer = await cname(f, 'ttl2.example.com', 'origin.example.net', { proxied: false, ttl: 600 });
        assert.equal(longer.plan.update.length, 1);
        assert.equal(named(f, root, 'ttl2.example.com')[0]!.ttl, 600);
      });

      test('a TTL no zone accepts (0, 2–29, over 86400) is invalid_input with no API call; one only Enterprise zones take is refused by Cloudflare with its reason', async () => {
        for (const ttl of [0, 2, 29, 86_401, 1.5]) {
          f.fake.resetCalls();
          const err = await refused(cname(f, 'ttl3.example.com', 'origin.example.net', { proxied: false, ttl }), 'invalid_input', /ttl/);
          assert.equal(fieldOf(err), 'ttl');
          await refused(aRecord(f, 'ttl3.example.com', '192.0.2.9', { proxied: false, ttl }), 'invalid_input', /ttl/);
          assert.deepEqual(f.fake.calls, [], `no API call for ttl ${ttl}`);
        }
        // The fake's zones are not Enterprise: 45 s goes to Cloudflare, which refuses it (9021), and the caller reads why.
        await refused(cname(f, 'ttl3.example.com', 'origin.example.net', { proxied: false, ttl: 45 }), 'invalid_input', /9021 Invalid TTL\. Must be between 60 and 86400/);
        assert.deepEqual(named(f, root, 'ttl3.example.com'), []);
        for (const ttl of [1, 60, 86_400]) assert.equal((await cname(f, `ttl-${ttl}.example.com`, 'origin.example.net', { proxied: false, ttl })).record?.ttl, ttl);
      });

      test('a different target on our record is an update (PUT), not a duplicate', async () => {
        await cname(f, 'moved.example.com', 'old.example.net');
        const [before] = named(f, root, 'moved.example.com');
        f.fake.resetCalls();
        const moved = await cname(f, 'moved.example.com', 'new.example.net');
        assert.equal(moved.changed, true);
        assert.deepEqual(moved.plan.update.map((u) => [u.before.content, u.after.content]), [['old.example.net', 'new.example.net']]);
        assert.deepEqual(writes(f).map((c) => [c.method, c.path]), [['PUT', `/zones/${root}/dns_records/${before!.id}`]]);
        const after = named(f, root, 'moved.example.com');
        assert.deepEqual(after.map((r) => [r.id, r.content]), [[before!.id, 'new.example.net']]);
        assert.deepEqual((await mirrorRows(f, 'moved.example.com')).map((r) => r.content), ['new.example.net']);

        await aRecord(f, 'addr.example.com', '192.0.2.1');
        const readdressed = await aRecord(f, 'addr.example.com', '192.0.2.2');
        assert.equal(readdressed.plan.update.length, 1);
        assert.deepEqual(named(f, root, 'addr.example.com').map((r) => r.content), ['192.0.2.2'], 'no round-robin pair');
      });

      test('81058 "identical record already exists" on create counts as success', async () => {
        // Another supervisor creates the very same record between our read and our create.
        f.fake.failNext(1, { delayMs: 0 }, '/dns_records');
        f.fake.failNext(1, { delayMs: 150 }, '/dns_records');
        const pending = cname(f, 'twin.example.com', 'origin.example.net');
        await within(5_000, 'the create call', () => singlePosts(f, root).length > 0);
        f.fake.addRecord(root, { type: 'CNAME', name: 'twin.example.com', content: 'origin.example.net', proxied: true, comment: 'managed-by:supervisor' });
        const answer = await pending;
        assert.equal(answer.changed, true);
        assert.deepEqual(answer.failed, []);
        assert.deepEqual(writes(f).map((c) => [c.method, c.status]), [['POST', 400]], 'refused as a duplicate, and nothing more to write');
        assert.equal(named(f, root, 'twin.example.com').length, 1);
        assert.deepEqual((await mirrorRows(f, 'twin.example.com')).map((r) => r.content), ['origin.example.net']);
        assert.deepEqual((await changesFor(f, 'twin.example.com')).map((c) => c.outcome), ['ok']);
      });

      test('81057 "record already exists" with other settings on a record of ours counts as success too', async () => {
        // Our record, same content, but unproxied with a TTL: Cloudflare answers 81057, not 81058.
        f.fake.failNext(1, { delayMs: 0 }, '/dns_records');
        f.fake.failNext(1, { delayMs: 150 }, '/dns_records');
        const pending = cname(f, 'twin57.example.com', 'origin.example.net');
        await within(5_000, 'the create call', () => singlePosts(f, root).length > 0);
        f.fake.addRecord(root, { type: 'CNAME', name: 'twin57.example.com', content: 'origin.example.net', proxied: false, ttl: 300, comment: 'managed-by:supervisor' });
        const answer = await pending;
        assert.deepEqual(answer.failed, []);
        assert.equal(singlePosts(f, root)[0]!.status, 400);
        const records = named(f, root, 'twin57.example.com');
        assert.deepEqual(records.map((r) => [r.content, r.proxied, r.ttl]), [['origin.example.net', true, 1]], 'one record, as asked');
        f.fake.resetCalls();
        assert.equal((await cname(f, 'twin57.example.com', 'origin.example.net')).changed, false);
        assert.deepEqual(writes(f), []);
      });

      test('an identical record appearing during a batch: the batch falls back and that record counts as created', async () => {
        const names = ['bt0.example.com', 'bt1.example.com', 'bt2.example.com'];
        await allocateHostnames(f, 'batchtwin', 31200, names);
        f.fake.failNext(1, { delayMs: 150 }, '/dns_records/batch');
        const pending = sync(f);
        await within(5_000, 'the batch call', () => batchCalls(f).length > 0);
        f.fake.addRecord(root, { type: 'CNAME', name: 'bt1.example.com', content: `${f.tunnelId}.cfargotunnel.com`, proxied: true, comment: `managed-by:supervisor tunnel ${f.tunnelId}` });
        const answer = await pending;
        assert.deepEqual(batchCalls(f).map((b) => b.status), [400]);
        assert.deepEqual(answer.dns.failed, []);
        assert.deepEqual(writes(f).filter((c) => c.method !== 'POST'), [], 'the twin needs no update');
        assert.deepEqual(answer.dns.plan.create.map((r) => r.name).sort(), names);
        for (const name of names) {
          assert.equal(named(f, root, name).length, 1, name);
          assert.equal((await mirrorRows(f, name)).length, 1, name);
        }
      });
    });

    describe('zones', () => {
      test('the longest matching zone wins; a hostname outside every zone is not_found naming the zones', async () => {
        const deep = await cname(f, 'api.dev.example.com', 'origin.example.net');
        assert.equal(deep.record?.zone, 'dev.example.com');
        assert.equal(named(f, dev, 'api.dev.example.com').length, 1);
        assert.deepEqual(named(f, root, 'api.dev.example.com'), []);

        const shallow = await cname(f, 'api.example.com', 'origin.example.net');
        assert.equal(shallow.record?.zone, 'example.com');
        assert.equal(named(f, root, 'api.example.com').length, 1);

        await cname(f, 'a.b.c.dev.example.com', 'origin.example.net');
        assert.equal(named(f, dev, 'a.b.c.dev.example.com').length, 1);
        // A suffix counts only on a label boundary.
        await cname(f, 'xdev.example.com', 'origin.example.net');
        assert.equal(named(f, root, 'xdev.example.com').length, 1);

        f.fake.resetCalls();
        const err = await refused(cname(f, 'api.example.org', 'origin.example.net'), 'not_found', /api\.example\.org/);
        assert.match(err.message, /example\.com/);
        assert.match(err.message, /dev\.example\.com/);
        assert.deepEqual(writes(f), []);
        await refused(f.invoke('delete_dns_record', { hostname: 'api.example.org' }), 'not_found', /api\.example\.org/);
      });

      test('a wildcard record lands in its zone and is idempotent', async () => {
        const wild = await cname(f, '*.dev.example.com', 'origin.example.net');
        assert.equal(wild.record?.zone, 'dev.example.com');
        assert.equal(named(f, dev, '*.dev.example.com').length, 1);
        f.fake.resetCalls();
        assert.equal((await cname(f, '*.DEV.example.com.', 'origin.example.net')).changed, false);
        assert.deepEqual(writes(f), []);
      });

      test('an IDN hostname is stored as punycode', async () => {
        const idn = await cname(f, 'bücher.example.com', 'origin.example.net');
        assert.equal(idn.hostname, 'xn--bcher-kva.example.com');
        assert.equal(named(f, root, 'xn--bcher-kva.example.com').length, 1);
        assert.deepEqual((await mirrorRows(f, 'xn--bcher-kva.example.com')).map((r) => r.zone_name), ['example.com']);
        f.fake.resetCalls();
        assert.equal((await cname(f, 'BÜCHER.example.com.', 'origin.example.net')).changed, false);
        assert.deepEqual(writes(f), []);
        await cname(f, 'idn-target.example.com', 'straße.example.net');
        assert.equal(named(f, root, 'idn-target.example.com')[0]!.content, 'xn--strae-oqa.example.net');
      });
    });

    describe('addresses, deletes, dry runs and listing', () => {
      test('create_a_record: IPv4 → A, IPv6 → AAAA; a bad address is invalid_input with no API call', async () => {
        const v4 = await aRecord(f, 'host4.example.com', '192.0.2.7', { proxied: false, ttl: 120 });
        assert.deepEqual([v4.record?.type, v4.record?.content, v4.record?.ttl], ['A', '192.0.2.7', 120]);
        const v6 = await aRecord(f, 'host6.example.com', '2001:db8::7');
        assert.equal(v6.record?.type, 'AAAA');
        assert.deepEqual(named(f, root, 'host4.example.com').map((r) => [r.type, r.content, r.proxied, r.ttl]), [['A', '192.0.2.7', false, 120]]);
        assert.deepEqual(named(f, root, 'host6.example.com').map((r) => [r.type, r.content, r.proxied]), [['AAAA', '2001:db8::7', true]]);

        for (const address of ['300.1.2.3', 'example.com', '192.0.2.1/24', '', '1.2.3', 'fe80::1%eth0']) {
          f.fake.resetCalls();
          const err = await refused(aRecord(f, 'bad.example.com', address), 'invalid_input');
          // The field is named in details, as for every other refused input.
          assert.equal(fieldOf(err), 'address', address);
          assert.deepEqual(f.fake.calls, [], `no API call for ${JSON.stringify(address)}`);
        }
        for (const hostname of ['bad..example.com', 'a:80.example.com', 'x*.example.com']) {
          assert.equal(fieldOf(await refused(aRecord(f, hostname, '192.0.2.1'), 'invalid_input')), 'hostname', hostname);
        }
      });

      test('a comment Cloudflare would refuse (a line break, or too long with the ownership mark) is invalid_input with no API call', async () => {
        for (const comment of ['line1\nline2', 'cr\r', 'c'.repeat(COMMENT_INPUT_MAX + 1)]) {
          f.fake.resetCalls();
          const err = await refused(cname(f, 'commented.example.com', 'origin.example.net', { comment }), 'invalid_input', /comment/);
          assert.equal(fieldOf(err), 'comment');
          await refused(aRecord(f, 'commented.example.com', '192.0.2.8', { comment }), 'invalid_input', /comment/);
          assert.deepEqual(f.fake.calls, [], `no API call for ${JSON.stringify(comment)}`);
        }
        const longest = await cname(f, 'commented.example.com', 'origin.example.net', { comment: 'c'.repeat(COMMENT_INPUT_MAX) });
        assert.equal(longest.record?.comment?.length, 100, 'the longest comment accepted is the longest Cloudflare keeps');
      });

      test('delete_dns_record: our record goes; a name with no record deletes 0', async () => {
        await cname(f, 'gone.example.com', 'origin.example.net');
        const deleted = await del(f, { hostname: 'gone.example.com' });
        assert.equal(deleted.deleted, 1);
        assert.deepEqual(named(f, root, 'gone.example.com'), []);
        assert.deepEqual(await mirrorRows(f, 'gone.example.com'), []);
        assert.deepEqual((await changesFor(f, 'gone.example.com')).map((c) => c.action), ['dns.delete', 'dns.create']);

        f.fake.resetCalls();
        const none = await del(f, { hostname: 'never.example.com' });
        assert.equal(none.deleted, 0);
        assert.deepEqual(writes(f), []);
        // A type filter leaves the other types alone.
        await aRecord(f, 'typed.example.com', '192.0.2.8');
        assert.equal((await del(f, { hostname: 'typed.example.com', type: 'AAAA' })).deleted, 0);
        assert.equal(named(f, root, 'typed.example.com').length, 1);
      });

      test('dryRun on every mutating operation returns the plan and makes no write call', async () => {
        await cname(f, 'dry.example.com', 'origin.example.net');
        await f.invoke('add_tunnel_route', { hostname: 'dryroute.example.com', port: 20500 });
        const config = await readFile(f.configPath, 'utf8');
        const restarts = await f.restarts();
        const snapshot = () => [...f.fake.records(root), ...f.fake.records(dev)];
        const recordsBefore = snapshot();
        f.fake.resetCalls();

        const create = await cname(f, 'drynew.example.com', 'origin.example.net', { dryRun: true });
        assert.equal(create.applied, false);
        assert.deepEqual(create.plan.create.map((r) => [r.name, r.content]), [['drynew.example.com', 'origin.example.net']]);
        const update = await cname(f, 'dry.example.com', 'elsewhere.example.net', { dryRun: true });
        assert.deepEqual(update.plan.update.map((u) => [u.before.content, u.after.content]), [['origin.example.net', 'elsewhere.example.net']]);
        const addr = await aRecord(f, 'dry.example.com', '192.0.2.9', { dryRun: true });
        assert.deepEqual([addr.plan.delete.map((r) => r.type), addr.plan.create.map((r) => r.type)], [['CNAME'], ['A']]);
        const removal = await del(f, { hostname: 'dry.example.com', dryRun: true });
        assert.equal(removal.deleted, 1);
        assert.equal(removal.applied, false);
        await addProject(f.services, 'test', { name: 'dry', range: { start: 31300, end: 31309 } });
        await f.services.ports.allocate(admin, { project: 'dry', service: 'api', hostname: 'dryalloc.example.com' });
        const syncPlan = await sync(f, { dryRun: true });
        assert.deepEqual(syncPlan.dns.plan.create.map((r) => r.name), ['dryalloc.example.com']);
        assert.equal(syncPlan.written, false);
        const addPlan = await f.invoke('add_tunnel_route', { hostname: 'dryadd.example.com', port: 20501, dryRun: true });
        assert.deepEqual((addPlan.dns as Outcome).plan.create.map((r) => r.name).filter((n) => n === 'dryadd.example.com'), ['dryadd.example.com']);
        const removePlan = await f.invoke('remove_tunnel_route', { hostname: 'dryroute.example.com', dryRun: true });
        assert.equal(removePlan.removed, false);
        assert.deepEqual((removePlan.dns as Outcome).plan.delete.map((r) => r.name), ['dryroute.example.com']);
        const gc = await f.invoke('prune_tunnel_dns', {});
        assert.equal(gc.applied, false);
        await f.invoke('import_cloudflare', { dryRun: true });

        assert.deepEqual(writes(f), [], 'no write call');
        assert.deepEqual(snapshot(), recordsBefore);
        assert.equal(await readFile(f.configPath, 'utf8'), config);
        assert.equal(await f.restarts(), restarts);
        const routes = await allRoutes(f);
        assert.ok(routes.some((r) => r.hostname === 'dryroute.example.com'));
        assert.ok(!routes.some((r) => r.hostname === 'dryadd.example.com'));
        await f.services.ports.release(admin, { project: 'dry', service: 'api' });
      });

      test('list_dns_records pages through every record exactly once (limit/cursor), whatever the characters in the names', async () => {
        for (const name of ['a.dev.example.com', 'a-b.dev.example.com', 'a_b.dev.example.com', 'a0.dev.example.com', 'z.dev.example.com']) await cname(f, name, 'origin.example.net');
        f.fake.addRecord(dev, { type: 'TXT', name: '_acme-challenge.dev.example.com', content: 'token-value' });
        f.fake.addRecord(dev, { type: 'A', name: 'A9.dev.example.com', content: '192.0.2.99' });
        const whole = (await f.invoke('list_dns_records', { zone: 'dev.example.com', limit: 200 })).items as View[];
        const expected = f.fake.records(dev).map((r) => r.id).sort();
        assert.deepEqual(whole.map((r) => r.id).sort(), expected);

        for (const limit of [1, 3]) {
          const seen: string[] = [];
          let cursor: string | undefined;
          for (let page = 0; page < 500; page++) {
            const answer = await f.invoke('list_dns_records', { zone: 'dev.example.com', limit, ...(cursor ? { cursor } : {}) });
            const items = answer.items as View[];
            assert.ok(items.length <= limit);
            seen.push(...items.map((r) => r.id!));
            cursor = (answer.nextCursor as string | null) ?? undefined;
            if (!cursor) break;
          }
          assert.equal(new Set(seen).size, seen.length, `no record twice (limit ${limit})`);
          assert.deepEqual([...seen].sort(), expected, `every record once (limit ${limit})`);
        }
      });

      test('list_dns_records filters: ownedOnly, hostname, type, zone', async () => {
        const all = (await f.invoke('list_dns_records', { limit: 200, zone: 'dev.example.com' })).items as View[];
        const owned = (await f.invoke('list_dns_records', { limit: 200, zone: 'dev.example.com', ownedOnly: true })).items as View[];
        assert.ok(owned.length > 0 && owned.length < all.length);
        assert.ok(owned.every((r) => r.owned && r.comment?.startsWith('managed-by:supervisor')));
        assert.deepEqual(owned.map((r) => r.id).sort(), all.filter((r) => r.owned).map((r) => r.id).sort());
        assert.ok(!owned.some((r) => r.name === '_acme-challenge.dev.example.com' || r.name === 'a9.dev.example.com'));

        const one = (await f.invoke('list_dns_records', { hostname: 'A-B.Dev.Example.com.' })).items as View[];
        assert.deepEqual(one.map((r) => [r.zone, r.name, r.type]), [['dev.example.com', 'a-b.dev.example.com', 'CNAME']]);
        const txt = (await f.invoke('list_dns_records', { type: 'TXT', limit: 200 })).items as View[];
        assert.deepEqual(txt.map((r) => r.name), ['_acme-challenge.dev.example.com']);
        await refused(f.invoke('list_dns_records', { zone: 'example.org' }), 'not_found', /example\.org.*example\.com/);
      });

      test('list_tunnel_routes pages through allocation and manual routes exactly once', async () => {
        await f.invoke('add_tunnel_route', { hostname: '_under.example.com', port: 20502 });
        await f.invoke('add_tunnel_route', { hostname: 'a-manual.example.com', port: 20503 });
        const wanted = (await f.services.cloudflare.tunnel.routes()).map((r) => `${r.hostname} ${r.path}`).sort();
        assert.ok(wanted.length > 300);
        for (const limit of [7, 200]) {
          const seen = (await allRoutes(f, limit)).map((r) => `${r.hostname} ${r.path}`);
          assert.equal(new Set(seen).size, seen.length, `no route twice (limit ${limit})`);
          assert.deepEqual([...seen].sort(), wanted, `every route once (limit ${limit})`);
        }
        const sources = new Set((await allRoutes(f)).map((r) => r.source));
        assert.deepEqual([...sources].sort(), ['allocation', 'manual']);
      });
    });

    test('the API token appears in no error, change-log row, table row or log line', async () => {
      assert.ok(errorsSeen.length >= 15, `${errorsSeen.length} errors were provoked`);
      const leaks: string[] = [];
      for (const err of errorsSeen) {
        const text = `${err.message} ${JSON.stringify(err.details)} ${JSON.stringify(err.toJSON())}`;
        if (text.includes(TOKEN)) leaks.push(`error: ${text.slice(0, 200)}`);
      }
      const changes = await f.services.cloudflare.changes.list({ limit: 100_000 });
      assert.ok(changes.some((c) => c.outcome === 'error') && changes.length > 300, `${changes.length} change rows`);
      for (const c of changes) if (JSON.stringify(c).includes(TOKEN)) leaks.push(`change ${c.id}`);
      await f.services.calls.flush();
      const { rows: tables } = await f.services.db.query<{ table_name: string }>(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      );
      assert.ok(tables.some((t) => t.table_name === 'cloudflare_changes'));
      for (const { table_name } of tables) {
        const { rows } = await f.services.db.query<{ row: string }>(`SELECT t::text AS row FROM "${table_name}" t`);
        for (const { row } of rows) if (row.includes(TOKEN)) leaks.push(`${table_name}: ${row.slice(0, 200)}`);
      }
      for (const line of capturedLogLines) if (line.includes(TOKEN)) leaks.push(`log: ${line.slice(0, 200)}`);
      assert.deepEqual(leaks, []);
    });
  });
}

/** Over HTTP, with the daemon's request log captured: the token is in no answer and no log line. */
describe('the API token does not leak through the daemon', () => {
  const backend: Backend = 'pglite';
  test('REST calls that succeed and fail: no answer body and no log line carries the token', async () => {
    const fake = await startFakeCloudflare();
    fake.addToken(TOKEN, ALL_PERMISSIONS);
    const zone = fake.addZone('example.com');
    fake.addRecord(zone.id, { type: 'CNAME', name: 'foreign.example.com', content: 'other.example.net' });
    const daemon = await startTestDaemon(backend, { SUPERVISOR_CLOUDFLARE_API_URL: fake.url });
    try {
      await daemon.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: TOKEN });
      const rest = new Rest(daemon.url, daemon.adminToken);
      const texts: string[] = [];
      const keep = <T extends { text: string }>(a: T): T => (texts.push(a.text), a);
      expectOk(keep(await rest.post('dns/cname', { hostname: 'web.example.com', target: 'origin.example.net' })));
      expectOk(keep(await rest.get('dns/records', { zone: 'example.com' })));
      expectOk(keep(await rest.get('cloudflare/verify')));
      expectOk(keep(await rest.get('cloudflare/changes')));
      expectError(keep(await rest.post('dns/cname', { hostname: 'foreign.example.com', target: 'origin.example.net' })), 409, 'conflict');
      expectError(keep(await rest.post('dns/cname', { hostname: 'web.example.org', target: 'origin.example.net' })), 404, 'not_found');
      expectError(keep(await rest.post('dns/a', { hostname: 'web.example.com', address: 'not-an-address' })), 400, 'invalid_input');
      // A token Cloudflare no longer accepts.
      await daemon.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: `${TOKEN}-revoked` });
      (daemon.services.clock as ManualClock).advance(60_000);
      const revoked = keep(await rest.get('cloudflare/verify'));
      assert.ok(revoked.status >= 400, revoked.text);
      assert.ok(capturedLogLines.some((l) => l.includes('/api/v1/dns/cname')), 'request log lines were captured');
      assert.deepEqual(texts.filter((t) => t.includes(TOKEN)), []);
      assert.deepEqual(capturedLogLines.filter((l) => l.includes(TOKEN)), []);
    } finally {
      await daemon.close();
      await fake.close();
    }
  });
});
