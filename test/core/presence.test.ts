/**
 * Whether the owner of work recorded in the database (a PIV loop, a VM resize) still runs: one on
 * this host is looked at in /proc; one on another host (daemons sharing PostgreSQL) by the
 * presence lock it holds for as long as its database connection lives.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/log.js';
import { Presence, presenceLock } from '../../src/core/presence.js';
import { processOwner } from '../../src/core/process-info.js';
import { openTestDb, secondHandle, skipReason, terminateBackend, testBackends } from '../helpers/db.js';
import { lockHolderPid } from '../helpers/lock-session.js';
import { captureStream, capturedLogLines } from '../helpers/services.js';
import { within } from '../helpers/wait.js';

const log = createLogger('info', captureStream());
/** A daemon on another host: nothing here can look at its process. */
const ELSEWHERE = 'other-host.example:4242:777';

for (const backend of testBackends()) {
  describe(`presence of owners [${backend}]`, { skip: await skipReason(backend) }, () => {
    let one: Db;
    let two: Db;
    let second: { db: Db; close(): Promise<void> };
    before(async () => {
      one = await openTestDb(backend);
      second = await secondHandle(one);
      two = second.db;
    });
    after(async () => {
      await second?.close();
      await one?.close();
    });

    test('a process on another host runs while it holds its presence, and is gone once it lets go', async () => {
      const presence = new Presence(one, log);
      assert.equal(await presence.alive(ELSEWHERE), false, 'it never said it runs');
      const theirs = await two.tryHold(presenceLock(ELSEWHERE), () => undefined);
      assert.ok(theirs);
      assert.equal(await presence.alive(ELSEWHERE), true);
      // Asking takes nothing from the holder.
      assert.equal(theirs.held(), true);
      await theirs.release();
      assert.equal(await presence.alive(ELSEWHERE), false);
      // Nor does asking keep the lock from whoever takes it next.
      const again = await two.tryHold(presenceLock(ELSEWHERE), () => undefined);
      assert.ok(again, 'free after the question');
      await again.release();
    });

    test('this process runs once it announces, as every other daemon sees it; a process on this host is looked at directly', async () => {
      const presence = new Presence(one, log);
      const asker = new Presence(two, log);
      assert.equal(await two.isHeld(presenceLock(presence.owner)), false);
      await presence.announce();
      await presence.announce();
      assert.equal(await two.isHeld(presenceLock(presence.owner)), true, 'held once, however often announced');
      assert.equal(await presence.alive(presence.owner), true);
      // This host: a process that is gone (a pid no process has) is dead without any lock; the test runner, alive, runs.
      assert.equal(await asker.alive(`${hostname()}:999999999:1`), false);
      assert.equal(await asker.alive(processOwner(process.ppid)), true);
      await presence.close();
      assert.equal(await two.isHeld(presenceLock(presence.owner)), false, 'let go at close');
      await assert.rejects(presence.announce(), /stopping/);
    });

    test('a process on another host is gone for sure (its work may be taken over) only once its presence stays free for a while, not at a blip', async () => {
      const presence = new Presence(one, log, 400);
      const held = () => two.tryHold(presenceLock(ELSEWHERE), () => undefined);
      const theirs = await held();
      assert.ok(theirs);
      assert.equal(await presence.gone(ELSEWHERE), false);
      // Its connection drops and it takes its presence again while the question is asked.
      await theirs.release();
      const asked = presence.gone(ELSEWHERE);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const back = await held();
      assert.ok(back);
      assert.equal(await asked, false, 'back within the while: not gone');
      await back.release();
      assert.equal(await presence.gone(ELSEWHERE), true, 'free all along: gone');
      // On this host /proc is the answer at once.
      assert.deepEqual([...(await presence.goneOf([`${hostname()}:999999999:1`, presence.owner, ELSEWHERE]))].sort(), [`${hostname()}:999999999:1`, ELSEWHERE].sort());
    });

    test('aliveOf asks once per owner and answers the ones that run', async () => {
      const presence = new Presence(one, log);
      const theirs = await two.tryHold(presenceLock(ELSEWHERE), () => undefined);
      try {
        const alive = await presence.aliveOf([ELSEWHERE, 'gone.example:1:1', ELSEWHERE, presence.owner]);
        assert.deepEqual([...alive].sort(), [ELSEWHERE, presence.owner].sort());
      } finally {
        await theirs?.release();
      }
    });
  });
}

describe('presence when a connection dies [postgres]', { skip: await skipReason('postgres') }, () => {
  let one: Db;
  let two: Db;
  let second: { db: Db; close(): Promise<void> };
  before(async () => {
    one = await openTestDb('postgres');
    second = await secondHandle(one);
    two = second.db;
  });
  after(async () => {
    await second?.close();
    await one?.close();
  });

  test("a daemon on another host whose connection dies (killed, its host gone) is gone at once for every other daemon", async () => {
    const presence = new Presence(one, log);
    const theirs = await two.tryHold(presenceLock(ELSEWHERE), () => undefined);
    assert.ok(theirs);
    assert.equal(await presence.alive(ELSEWHERE), true);
    await terminateBackend(theirs.backendPid()!);
    await within(5_000, 'the database to release the presence of a dead connection', async () => !(await presence.alive(ELSEWHERE)));
  });

  test('a daemon whose own presence connection drops takes it again, and says so', async () => {
    const presence = new Presence(one, log);
    try {
      await presence.announce();
      const pid = await lockHolderPid(two, presenceLock(presence.owner));
      assert.ok(pid);
      await terminateBackend(pid);
      await within(5_000, 'the presence to be taken again on a new connection', async () => {
        const now = await lockHolderPid(two, presenceLock(presence.owner));
        return now !== undefined && now !== pid;
      });
      const lines = capturedLogLines.join('');
      assert.match(lines, /lost this daemon's presence in the database/);
      assert.match(lines, /presence in the database is back/);
    } finally {
      await presence.close();
    }
    assert.equal(await two.isHeld(presenceLock(presence.owner)), false);
  });
});
