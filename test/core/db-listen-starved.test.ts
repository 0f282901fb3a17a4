/**
 * A LISTEN connection is given up when the server stops answering its heartbeat; a
 * daemon whose own event loop was stalled (CPU starvation on a busy VM) while the
 * answer waited on the socket must not take that for the server's silence.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Db } from '../../src/core/db.js';
import { openTestDb, skipReason } from '../helpers/db.js';

/** Holds the CPU, as a starved process would not get it, for `ms`. */
function stall(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until);
}

describe('a LISTEN connection in a process that stalls [postgres]', { skip: await skipReason('postgres') }, () => {
  let db: Db;
  before(async () => {
    db = await openTestDb('postgres');
  });
  after(() => db.close());

  test('a stall right after a heartbeat was sent, longer than the answer limit, keeps the connection: its answer was waiting', async (t) => {
    const states: boolean[] = [];
    const heard: string[] = [];
    const listening = await db.listen('starved_channel', { message: (m) => heard.push(m), state: (up) => states.push(up) });
    t.after(() => listening.stop());
    const pid = listening.backendPid();
    assert.ok(pid);
    // The heartbeat is the only 'SELECT 1' sent on a LISTEN connection: stall the process
    // just after it leaves, three times, for longer than the 500 ms it has to be answered.
    let stalls = 0;
    const query = pg.Client.prototype.query;
    t.mock.method(pg.Client.prototype, 'query', function (this: pg.Client, ...args: unknown[]) {
      const sent = (query as (...a: unknown[]) => unknown).apply(this, args);
      if (args[0] === 'SELECT 1' && stalls < 3) {
        stalls++;
        // From the check phase, after this turn's poll for I/O: the answer arrives during
        // the stall and waits on the socket, behind the timers of the next turn.
        setImmediate(() => stall(800));
      }
      return sent;
    });
    while (stalls < 3) await new Promise((resolve) => setTimeout(resolve, 50));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    t.mock.restoreAll();
    assert.deepEqual(states, [true], 'the connection was never given up');
    assert.equal(listening.backendPid(), pid, 'the same connection');
    await db.query("SELECT pg_notify('starved_channel', 'still heard')");
    for (let i = 0; i < 40 && heard.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    assert.deepEqual(heard, ['still heard']);
  });
});
