/**
 * Locks across daemons on one database: `exclusive` serialises a read-diff-write,
 * `tryHold` and Leadership give one holder, and a holder whose connection dies
 * releases what it held (and knows it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import pg from 'pg';
import type { Db } from '../../src/core/db.js';
import { Leadership } from '../../src/core/leadership.js';
import { lockConnection } from '../../src/core/pg-locks.js';
import { createLogger } from '../../src/core/log.js';
import { openTestDb, secondHandle, skipReason, TEST_DATABASE_URL, terminateBackend, testBackends } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';
import { lockHolderPid } from '../helpers/lock-session.js';
import { captureStream } from '../helpers/services.js';
import { within } from '../helpers/wait.js';

const log = createLogger('warn', captureStream());
const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

for (const backend of testBackends()) {
  describe(`locks across daemons [${backend}]`, { skip: await skipReason(backend) }, () => {
    let one: Db;
    let two: { db: Db; close(): Promise<void> };
    before(async () => {
      one = await openTestDb(backend);
      two = await secondHandle(one);
    });
    after(async () => {
      await two?.close();
      await one?.close();
    });

    test('exclusive: holders of one name never overlap, other names do not wait', async () => {
      const events: string[] = [];
      const work = (db: Db, who: string, name: string) =>
        db.exclusive(name, async () => {
          events.push(`${who}+`);
          await tick(30);
          events.push(`${who}-`);
        });
      await Promise.all([work(one, 'a', 'tunnel:t1'), work(two.db, 'b', 'tunnel:t1'), work(one, 'c', 'tunnel:t1')]);
      for (let i = 0; i < events.length; i += 2) assert.equal(events[i]!.slice(0, 1), events[i + 1]!.slice(0, 1), `interleaved: ${events.join(' ')}`);
      let otherRan = false;
      await one.exclusive('tunnel:t2', async () => {
        await two.db.exclusive('tunnel:t3', async () => void (otherRan = true));
      });
      assert.ok(otherRan);
    });

    test("exclusive: the holder's statements run on the installation's tables; a bad one fails as itself, not as a lost lock", async () => {
      await one.exclusive('tunnel:tables', async (holding) => {
        await holding.query("INSERT INTO cloudflare_writes_in_flight (lock_key, writer, landed_by) VALUES ('tunnel:tables', 'w', now())");
        await assert.rejects(holding.query('SELECT no_such_column FROM cloudflare_writes_in_flight'), (err: Error) => /no_such_column/.test(err.message) && !/lost the database lock/.test(err.message));
      });
      const { rows } = await two.db.query("SELECT writer FROM cloudflare_writes_in_flight WHERE lock_key = 'tunnel:tables'");
      assert.deepEqual(rows, [{ writer: 'w' }]);
    });

    test('tryHold: one holder at a time, free again once released', async () => {
      const first = await one.tryHold('scheduler', () => undefined);
      assert.ok(first);
      assert.ok(first.held());
      assert.equal(await two.db.tryHold('scheduler', () => undefined), undefined);
      await first.release();
      const second = await two.db.tryHold('scheduler', () => undefined);
      assert.ok(second);
      assert.ok(second.held());
      await second.release();
    });

    test('Leadership: exactly one of three daemons leads; when it stops another takes over', async () => {
      const leaders = [one, two.db, one].map((db) => new Leadership(db, 'jobs', log, { retryMs: 20 }));
      await Promise.all(leaders.map((l) => l.start()));
      assert.equal(leaders.filter((l) => l.leading).length, 1);
      const first = leaders.find((l) => l.leading)!;
      await first.stop();
      await within(5_000, 'another daemon leads', () => leaders.filter((l) => l.leading).length === 1);
      assert.equal(first.leading, false);
      for (const l of leaders) await l.stop();
    });
  });
}

describe('a holder whose database connection dies [postgres]', { skip: await skipReason('postgres') }, () => {
  let one: Db;
  let two: Db;
  before(async () => {
    one = await openTestDb('postgres');
    two = (await secondHandle(one)).db;
  });
  after(async () => {
    await two?.close();
    await one?.close();
  });

  test('tryHold is released by the database and the holder is told', async () => {
    let told = false;
    const held = await one.tryHold('scheduler', () => (told = true));
    assert.ok(held);
    await terminateBackend(held.backendPid()!);
    await within(5_000, 'the holder is told', () => told);
    assert.equal(held.held(), false);
    const next = await two.tryHold('scheduler', () => undefined);
    assert.ok(next);
    assert.ok(next.held(), 'another daemon can hold it at once');
    await next.release();
  });

  test('Leadership moves to another daemon when the leader loses its connection', async (t) => {
    const changes: string[] = [];
    const a = new Leadership(one, 'jobs-lost', log, { retryMs: 20, onChange: (l) => changes.push(`a:${l}`) });
    const b = new Leadership(two, 'jobs-lost', log, { retryMs: 20, onChange: (l) => changes.push(`b:${l}`) });
    // Stopped whatever happens: a leader left running keeps the test process alive.
    t.after(() => Promise.all([a.stop(), b.stop()]));
    await a.start();
    await b.start();
    assert.deepEqual([a.leading, b.leading], [true, false]);
    await terminateBackend(a.backendPid()!);
    await within(5_000, 'a is told it lost the lead', () => changes.includes('a:false'));
    // A leader whose connection died with its host does not try again; this one lives on, and
    // its own retry could take the lock back before b's: it stops, as the gone daemon would.
    await a.stop();
    await within(5_000, 'b leads', () => b.leading);
    // Back again, a tries every 20 ms, but b holds it now.
    await a.start();
    await tick(60);
    assert.deepEqual([a.leading, b.leading], [false, true]);
  });

  test("a holder's statements on the lock's session are refused once the lock is lost, before it has noticed", async () => {
    const run = one.exclusive('tunnel:fenced', async (holding) => {
      await holding.query('SELECT 1');
      const pid = await lockHolderPid(one, 'tunnel:fenced');
      const { rows } = await one.query<{ name: string }>('SELECT application_name AS name FROM pg_stat_activity WHERE pid = $1', [pid]);
      assert.deepEqual(rows, [{ name: 'supervisor-lock' }], 'the lock is held on a connection of its own');
      await terminateBackend(pid!);
      // No wait for the client to hear of it: the session is gone, so the statement cannot run.
      await holding.query("INSERT INTO cloudflare_writes_in_flight (lock_key, writer, landed_by) VALUES ('tunnel:fenced', 'late', now())");
    });
    await assert.rejects(run, isError('unavailable', /lost the database lock on tunnel:fenced/));
    const { rows } = await one.query("SELECT 1 FROM cloudflare_writes_in_flight WHERE lock_key = 'tunnel:fenced'");
    assert.equal(rows.length, 0, 'nothing was written');
    // Someone else gets it right away.
    await two.exclusive('tunnel:fenced', (holding) => holding.query('SELECT 1'));
  });

  test('lock names are per installation: another schema on the same server does not contend', async () => {
    const elsewhere = await openTestDb('postgres');
    try {
      const mine = await one.tryHold('scheduler-schema', () => undefined);
      const theirs = await elsewhere.tryHold('scheduler-schema', () => undefined);
      assert.ok(mine && theirs);
      assert.ok(mine.held() && theirs.held());
      await mine.release();
      await theirs.release();
    } finally {
      await elsewhere.close();
    }
  });
});

test('a lock connection has the server probe it, so a holder whose host vanished loses its locks in ~25 s, not hours [postgres]', { skip: await skipReason('postgres') }, async () => {
  const client = await lockConnection({ connectionString: TEST_DATABASE_URL });
  try {
    const { rows } = await client.query<{ idle: string; interval: string; count: string }>(
      "SELECT current_setting('tcp_keepalives_idle') AS idle, current_setting('tcp_keepalives_interval') AS interval, current_setting('tcp_keepalives_count') AS count",
    );
    assert.deepEqual(rows[0], { idle: '10', interval: '5', count: '3' });
  } finally {
    await client.end();
  }
});

test('a lock connection to a database that accepts and never answers fails as unavailable after its connect limit, not for ever', { timeout: 20_000 }, async () => {
  // What a stalled pooler or a half-open path looks like: the TCP connect succeeds, the startup is never answered.
  const silent = createServer((socket) => void socket.on('error', () => undefined));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = silent.address() as AddressInfo;
    await assert.rejects(lockConnection({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, connectTimeoutMs: 300 }), isError('unavailable', /lost the connection to PostgreSQL \(timeout expired\)/));
  } finally {
    silent.close();
  }
});

test('a new connection refused for the connection limit says so, names databasePoolSize, and is unavailable [postgres]', { skip: await skipReason('postgres') }, async () => {
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  const role = `lock_limit_${process.pid}`;
  await admin.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 0`);
  try {
    const url = new URL(TEST_DATABASE_URL);
    url.username = role;
    await assert.rejects(lockConnection({ connectionString: url.toString() }), isError('unavailable', /refused a new connection \(too many connections for role .*\): its limit is reached; .*databasePoolSize/));
  } finally {
    await admin.query(`DROP ROLE ${role}`);
    await admin.end();
  }
});
