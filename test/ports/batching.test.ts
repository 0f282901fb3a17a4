/**
 * Group commit of concurrent allocations (GroupCommit in AllocationStore, and port_allocate_many): calls
 * that arrive while a batch runs share the next statement, and every caller still gets
 * exactly the answer a call of its own would give.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal } from '../../src/core/principal.js';
import { AuditLog } from '../../src/core/audit.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import type { Allocated } from '../../src/ports/allocations.js';
import { PortService } from '../../src/ports/service.js';
import type { ProjectService } from '../../src/projects/service.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { addProject, projectsFor } from '../helpers/projects.js';
import {TEST_EPHEMERAL} from './fixture.js';
import { isError } from '../helpers/errors.js';

const admin = adminPrincipal('test-admin');

/** One allocation statement: port_allocate (one call) or port_allocate_many (a batch), and the services it carried. */
interface Sent {
  many: boolean;
  services: string[];
}

/**
 * The database as the service sees it: allocation statements are recorded in the order
 * sent, the next one can be held in flight, and the next batch statement made to fail.
 */
class WatchedDb {
  readonly sent: Sent[] = [];
  hold: Promise<void> | undefined;
  failNextBatch: Error | undefined;
  readonly db: Db;

  constructor(inner: Db) {
    this.db = interceptStatements(inner, async (sql, params, run) => {
      const many = sql.includes('port_allocate_many(');
      if (many || sql.includes('port_allocate(')) {
        this.sent.push({ many, services: many ? (params![1] as string[]) : [params![1] as string] });
        const hold = this.hold;
        this.hold = undefined;
        await hold;
        const fail = many ? this.failNextBatch : undefined;
        if (fail) {
          this.failNextBatch = undefined;
          throw fail;
        }
      }
      return run();
    });
  }

  /** The services of each batch statement sent since `from`. */
  batchesSince(from: number): string[][] {
    return this.sent.slice(from).filter((s) => s.many).map((s) => s.services);
  }
}

for (const backend of testBackends()) {
  describe(`allocations in batches [${backend}]`, { skip: await skipReason(backend) }, () => {
    let watched: WatchedDb;
    let ports: PortService;
    let projects: ProjectService;
    let plugs = 0;
    const allocate = (project: string, service: string, extra: Record<string, unknown> = {}) => ports.allocate(admin, { project, service, ...extra });

    /**
     * Runs `calls` as one batch: one batch at a time, and a first call held in flight while
     * they queue behind it. Answers come back in call order, with the statements sent after the held one.
     */
    async function inOneBatch(calls: Array<() => Promise<Allocated>>): Promise<{ answers: Array<PromiseSettledResult<Allocated>>; batches: string[][] }> {
      // The last batch's slot frees on setImmediate: let it, so the plug goes out alone.
      await new Promise((resolve) => setImmediate(resolve));
      let open!: () => void;
      watched.hold = new Promise((resolve) => (open = resolve));
      const sentBefore = watched.sent.length;
      const plug = allocate('alpha', `plug-${++plugs}`);
      const pending = calls.map((call) => call());
      // Every call has queued by now: the way in (authorization, ready, exclusions) is memoized promises.
      await new Promise((resolve) => setImmediate(resolve));
      open();
      const answers = await Promise.allSettled(pending);
      await plug;
      // The plug went alone (the single statement), the calls after it in batches.
      assert.deepEqual(watched.sent[sentBefore], { many: false, services: [`plug-${plugs}`] });
      return { answers, batches: watched.batchesSince(sentBefore) };
    }
    const value = (answer: PromiseSettledResult<Allocated> | undefined) => {
      assert.equal(answer?.status, 'fulfilled', answer?.status === 'rejected' ? String(answer.reason) : 'no answer');
      return (answer as PromiseFulfilledResult<Allocated>).value;
    };

    before(async () => {
      watched = new WatchedDb(await openTestDb(backend));
      const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
      ports = new PortService({
        db: watched.db, clock, audit: new AuditLog(watched.db, clock), ephemeralRange: async () => TEST_EPHEMERAL,
        allocationBatching: { maxInFlight: 1, maxBatch: 64 },
      });
      projects = await projectsFor({ db: watched.db, clock, audit: new AuditLog(watched.db, clock) }, ports);
      for (const [name, start, end] of [['alpha', 4000, 4099], ['beta', 4100, 4199], ['tiny', 4200, 4201], ['wide', 5000, 5999]] as const) {
        await addProject({ projects, ports }, admin.actor, { name, range: { start, end } });
      }
    });
    after(() => watched.db.close());

    test('a lone call goes out at once, as the single statement', async () => {
      const sentBefore = watched.sent.length;
      const statsBefore = ports.allocationBatches();
      const got = await allocate('alpha', 'lone');
      assert.deepEqual([got.port, got.created], [4000, true]);
      assert.deepEqual(watched.sent.slice(sentBefore), [{ many: false, services: ['lone'] }]);
      const stats = ports.allocationBatches();
      assert.deepEqual([stats.batches - statsBefore.batches, stats.requests - statsBefore.requests], [1, 1]);
    });

    test('concurrent calls share one statement, and each caller gets its own allocation', async () => {
      const calls = Array.from({ length: 10 }, (_, i) => ({ project: i % 2 ? 'beta' : 'alpha', service: `svc-${i}` }));
      const { answers, batches } = await inOneBatch(calls.map((c) => () => allocate(c.project, c.service)));
      assert.equal(batches.length, 1);
      assert.deepEqual([...batches[0]!].sort(), calls.map((c) => c.service).sort());
      const got = answers.map(value);
      for (const [i, a] of got.entries()) {
        assert.deepEqual([a.project, a.service, a.created], [calls[i]!.project, calls[i]!.service, true]);
        assert.ok(a.project === 'alpha' ? a.port >= 4000 && a.port <= 4099 : a.port >= 4100 && a.port <= 4199, `${a.project} got ${a.port}`);
      }
      assert.equal(new Set(got.map((a) => a.port)).size, got.length);
      // Lowest first in each range, as one call after the other would have it (alpha: 4000 lone, then the plug).
      assert.deepEqual(got.filter((a) => a.project === 'beta').map((a) => a.port).sort(), [4100, 4101, 4102, 4103, 4104]);
      assert.deepEqual(got.filter((a) => a.project === 'alpha').map((a) => a.port).sort(), [4002, 4003, 4004, 4005, 4006]);
      // What the table holds and what the audit log says are what the callers were told.
      const { rows } = await watched.db.query<{ service: string; port: number }>("SELECT service, port FROM port_allocations WHERE service LIKE 'svc-%' ORDER BY service");
      assert.deepEqual(rows, got.map((a) => ({ service: a.service, port: a.port })).sort((x, y) => x.service.localeCompare(y.service)));
      const audited = await watched.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'port.allocate' AND target LIKE '%/svc-%'");
      assert.equal(audited.rows[0]!.n, calls.length);
    });

    test('the same service twice in one batch gets one port, created by the first caller; another service its own', async () => {
      const { answers, batches } = await inOneBatch([() => allocate('beta', 'twice'), () => allocate('beta', 'twice'), () => allocate('beta', 'once')]);
      assert.equal(batches.length, 1);
      const [first, second, other] = answers.map(value);
      assert.equal(first!.port, second!.port);
      assert.deepEqual([first!.created, second!.created], [true, false]);
      assert.notEqual(other!.port, first!.port);
      assert.equal(other!.created, true);
      const { rows } = await watched.db.query<{ n: number }>("SELECT count(*)::int AS n FROM port_allocations WHERE service = 'twice'");
      assert.equal(rows[0]!.n, 1);
    });

    test('repeat calls in a batch: new hostname and description applied, another protocol or a taken hostname refused', async () => {
      const web = await allocate('alpha', 'web');
      await allocate('alpha', 'site', { hostname: 'site.example.com' });
      const { answers } = await inOneBatch([
        () => allocate('alpha', 'web', { hostname: 'web.example.com', description: 'front' }),
        () => allocate('alpha', 'web', { protocol: 'udp' }),
        () => allocate('alpha', 'copy', { hostname: 'site.example.com' }),
        () => allocate('beta', 'fine'),
      ]);
      const routed = value(answers[0]);
      assert.deepEqual([routed.port, routed.created, routed.hostname, routed.description], [web.port, false, 'web.example.com', 'front']);
      assert.equal(answers[1]!.status, 'rejected');
      isError('conflict', /alpha\/web already has port \d+\/tcp; use another service name for udp/)((answers[1] as PromiseRejectedResult).reason);
      isError('conflict', /hostname site.example.com already routes to alpha\/site/)((answers[2] as PromiseRejectedResult).reason);
      assert.equal(value(answers[3]).created, true);
    });

    test('a request for a removed project gets not_found; the others of its batch their ports', async () => {
      await addProject({ projects, ports }, admin.actor, { name: 'doomed', range: { start: 4300, end: 4399 } });
      await projects.remove(admin.actor, { name: 'doomed', force: false });
      const { answers, batches } = await inOneBatch([() => allocate('alpha', 'stays'), () => allocate('doomed', 'gone'), () => allocate('beta', 'stays')]);
      assert.equal(batches.length, 1);
      assert.equal(value(answers[0]).project, 'alpha');
      isError('not_found', /doomed has no port range/)((answers[1] as PromiseRejectedResult).reason);
      assert.equal(value(answers[2]).project, 'beta');
    });

    test('a range exhausted inside a batch is a clear conflict for the callers it leaves out, and for them only', async () => {
      const { answers } = await inOneBatch([() => allocate('tiny', 'a'), () => allocate('tiny', 'b'), () => allocate('tiny', 'c'), () => allocate('beta', 'unharmed')]);
      assert.deepEqual(answers.slice(0, 2).map((a) => value(a).port), [4200, 4201]);
      isError('conflict', /project tiny has no free port on host local: range 4200-4201 is 100% used \(2 of 2 usable ports\)/)((answers[2] as PromiseRejectedResult).reason);
      assert.equal(value(answers[3]).project, 'beta');
    });

    test('a batch that fails as a whole (here a deadlock) is retried call by call: every caller still gets a port', async () => {
      watched.failNextBatch = Object.assign(new Error('deadlock detected'), { code: '40P01' });
      const { answers, batches } = await inOneBatch(Array.from({ length: 5 }, (_, i) => () => allocate('beta', `retried-${i}`)));
      assert.equal(watched.failNextBatch, undefined, 'the batch statement was sent');
      assert.equal(batches.length, 1);
      const got = answers.map(value);
      assert.ok(got.every((a) => a.created && a.project === 'beta'));
      assert.equal(new Set(got.map((a) => a.port)).size, 5);
    });

    test('one request the table refuses fails the batch statement, not the other callers', async () => {
      // The service name check is the table's (the operation layer refuses such names before they get here).
      const { answers, batches } = await inOneBatch([() => allocate('alpha', 'good-1'), () => allocate('alpha', 'Not A Service!'), () => allocate('beta', 'good-2')]);
      assert.equal(batches.length, 1);
      assert.equal(value(answers[0]).service, 'good-1');
      assert.equal(answers[1]!.status, 'rejected');
      assert.equal(value(answers[2]).service, 'good-2');
      const { rows } = await watched.db.query<{ n: number }>("SELECT count(*)::int AS n FROM port_allocations WHERE service IN ('good-1', 'good-2', 'Not A Service!')");
      assert.equal(rows[0]!.n, 2);
    });

    test('a preferred port goes alone, next to a batch', async () => {
      const { answers, batches } = await inOneBatch([() => allocate('beta', 'pinned', { preferredPort: 4150 }), () => allocate('beta', 'free-1'), () => allocate('beta', 'free-2')]);
      assert.deepEqual(batches, [['free-1', 'free-2']]);
      assert.ok(watched.sent.some((s) => !s.many && s.services[0] === 'pinned'));
      assert.equal(value(answers[0]).port, 4150);
      assert.ok(answers.slice(1).every((a) => value(a).created));
    });

    test('a batch of 200 concurrent calls: distinct ports, one port for one service', async () => {
      const distinct = await Promise.all(Array.from({ length: 200 }, (_, i) => allocate('wide', `burst-${i}`)));
      assert.equal(new Set(distinct.map((a) => a.port)).size, 200);
      // 64 calls per batch at most.
      assert.ok(watched.sent.every((b) => b.services.length <= 64));
      const same = await Promise.all(Array.from({ length: 50 }, () => allocate('beta', 'singleton')));
      assert.equal(new Set(same.map((a) => a.port)).size, 1);
      assert.equal(same.filter((a) => a.created).length, 1);
    });
  });
}
