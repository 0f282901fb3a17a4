/**
 * Races settled by the database: several OS processes, each with its own connection
 * pool, hit one PostgreSQL schema at the same moment. (PGlite is single-process; its
 * in-process bursts are in allocate.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { AuditLog } from '../../src/core/audit.js';
import { systemClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { migrate } from '../../src/core/migrate.js';
import { PortService } from '../../src/ports/service.js';
import type { ProjectService } from '../../src/projects/service.js';
import { DOMAINS } from '../../src/app.js';
import { skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { addProject, projectsFor } from '../helpers/projects.js';
import type { RaceCommand, RaceReply } from './race-worker.js';

const WORKERS = 4;
const CALLS = 50;
const WORKER_FILE = fileURLToPath(new URL('./race-worker.ts', import.meta.url));

class Worker {
  private constructor(private readonly child: ChildProcess) {}

  static start(schema: string): Promise<Worker> {
    const child = fork(WORKER_FILE, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, RACE_DATABASE_URL: TEST_DATABASE_URL, RACE_SCHEMA: schema },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`race worker exited with ${code} before it was ready`)));
      child.once('message', () => resolve(new Worker(child)));
    });
  }

  /** Sends one command; the answer is the next message. */
  ask(command: RaceCommand): Promise<RaceReply> {
    return new Promise((resolve) => {
      this.child.once('message', (message: RaceReply) => resolve(message));
      this.child.send(command);
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.removeAllListeners('exit');
      this.child.once('exit', () => resolve());
      this.child.send({ kind: 'exit' } satisfies RaceCommand);
    });
  }
}

type Allocated = Extract<RaceReply, { kind: 'allocated' }>;
type Added = Extract<RaceReply, { kind: 'added' }>;

/** Every worker runs its command at once; the answers come back in worker order. */
const all = <R extends RaceReply>(workers: Worker[], command: (index: number) => RaceCommand) =>
  Promise.all(workers.map((w, i) => w.ask(command(i)))) as Promise<R[]>;

describe('port races across processes [postgres]', { skip: await skipReason('postgres') }, () => {
  const schema = `race_${process.pid}_${randomBytes(4).toString('hex')}`;
  let db: Db;
  let ports: PortService;
  let projects: ProjectService;
  let workers: Worker[] = [];

  before(async () => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.end();
    db = await openPostgres({ connectionString: TEST_DATABASE_URL, schema, maxConnections: 4 });
    await migrate(db, DOMAINS);
    ports = new PortService({ db, clock: systemClock, audit: new AuditLog(db, systemClock) });
    projects = await projectsFor({ db, clock: systemClock, audit: new AuditLog(db, systemClock) }, ports);
    await addProject({ projects, ports }, 'race-test', { name: 'race-one', range: { start: 10000, end: 10999 } });
    for (const [i, name] of ['race-a', 'race-b', 'race-c', 'race-d'].entries()) {
      await addProject({ projects, ports }, 'race-test', { name, range: { start: 11000 + i * 100, end: 11099 + i * 100 } });
    }
    workers = await Promise.all(Array.from({ length: WORKERS }, () => Worker.start(schema)));
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await db?.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await db?.close();
  });

  test(`${WORKERS} processes × ${CALLS} concurrent allocations in one project: all distinct, no errors, no gaps`, async () => {
    const replies = await all<Allocated>(workers, (w) => ({ kind: 'allocate', calls: Array.from({ length: CALLS }, (_, i) => ({ project: 'race-one', service: `w${w}-s${i}` })) }));
    assert.deepEqual(replies.flatMap((r) => r.errors), []);
    const got = replies.flatMap((r) => r.ports.map((p) => p.port)).sort((a, b) => a - b);
    assert.equal(got.length, WORKERS * CALLS);
    assert.equal(new Set(got).size, WORKERS * CALLS);
    // Lowest-first with no releases: exactly the first 200 ports of the range.
    assert.deepEqual(got, Array.from({ length: WORKERS * CALLS }, (_, i) => 10000 + i));
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM port_allocations WHERE project = 'race-one'");
    assert.equal(rows[0]!.n, WORKERS * CALLS);
  });

  test(`the same spread over 4 projects: each gets 50 distinct ports from its own range`, async () => {
    const projects = ['race-a', 'race-b', 'race-c', 'race-d'];
    const replies = await all<Allocated>(workers, (w) => ({ kind: 'allocate', calls: Array.from({ length: CALLS }, (_, i) => ({ project: projects[(w + i) % 4]!, service: `w${w}-s${i}` })) }));
    assert.deepEqual(replies.flatMap((r) => r.errors), []);
    const got = replies.flatMap((r) => r.ports);
    assert.equal(new Set(got.map((p) => p.port)).size, WORKERS * CALLS);
    for (const [i, project] of projects.entries()) {
      const mine = got.filter((p) => p.project === project).map((p) => p.port);
      assert.equal(mine.length, CALLS, project);
      assert.ok(mine.every((port) => port >= 11000 + i * 100 && port <= 11099 + i * 100), `${project} got a port outside its range`);
    }
  });

  test(`${WORKERS} processes asking for the same service get one port, and only one call creates it`, async () => {
    const replies = await all<Allocated>(workers, () => ({ kind: 'allocate', calls: Array.from({ length: CALLS }, () => ({ project: 'race-one', service: 'the-one' })) }));
    assert.deepEqual(replies.flatMap((r) => r.errors), []);
    const answers = replies.flatMap((r) => r.ports);
    assert.equal(answers.length, WORKERS * CALLS);
    assert.equal(new Set(answers.map((p) => p.port)).size, 1);
    assert.equal(answers.filter((p) => p.created).length, 1);
  });

  test('two processes adding overlapping ranges at once: exactly one succeeds, every round', async () => {
    for (let round = 0; round < 10; round++) {
      const base = 20000 + round * 200;
      const [a, b] = await Promise.all([
        workers[0]!.ask({ kind: 'addProject', name: `ov-a-${round}`, range: { start: base, end: base + 149 } }),
        workers[1]!.ask({ kind: 'addProject', name: `ov-b-${round}`, range: { start: base + 100, end: base + 199 } }),
      ]) as Added[];
      assert.equal([a!.ok, b!.ok].filter(Boolean).length, 1, `round ${round}: ${JSON.stringify([a, b])}`);
      assert.match((a!.error ?? b!.error)!, /^conflict: range .* overlaps ov-[ab]-\d+/);
    }
  });

  test('shrinking a range while other processes allocate in it: no deadlock, and no port left outside', async () => {
    await addProject({ projects, ports }, 'race-test', { name: 'race-shrink', range: { start: 13000, end: 13099 } });
    const [resized, ...allocated] = await Promise.all([
      workers[3]!.ask({ kind: 'resize', name: 'race-shrink', range: { start: 13000, end: 13039 } }) as Promise<Added>,
      ...workers.slice(0, 3).map((w, n) => w.ask({ kind: 'allocate', calls: Array.from({ length: 20 }, (_, i) => ({ project: 'race-shrink', service: `w${n}-s${i}` })) }) as Promise<Allocated>),
    ]);
    // Either order is fine: the resize refused (allocations already beyond 13039), or it won and
    // later allocations found the smaller range full. Nothing else may go wrong.
    assert.match(resized!.error ?? 'ok', /^ok$|^conflict: range 13000-13039 would leave allocated ports of race-shrink outside it/);
    for (const error of allocated.flatMap((r) => r.errors)) assert.match(error, /^conflict: project race-shrink has no free port/);
    const { rows } = await db.query<{ outside: number }>(
      "SELECT count(*)::int AS outside FROM port_allocations a JOIN port_ranges r ON r.project = a.project WHERE NOT r.port_range @> a.port",
    );
    assert.equal(rows[0]!.outside, 0);
  });

  test('processes adding projects without a range at once get different default blocks', async () => {
    const replies = await all<Added>(workers, (w) => ({ kind: 'addProject', name: `default-${w}` }));
    assert.deepEqual(replies.map((r) => r.error), [null, null, null, null]);
    assert.equal(new Set(replies.map((r) => r.range)).size, WORKERS);
  });
});
