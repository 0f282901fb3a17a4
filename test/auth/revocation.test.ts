/**
 * A token revoked on one daemon is refused by every daemon sharing the database
 * within a second (a notification), although each remembers verified tokens; and a
 * daemon that cannot hear notifications does not trust what it remembers.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SupervisorApp } from '../../src/app.js';
import type { Db } from '../../src/core/db.js';
import { skipReason, terminateBackend } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import { daemonsWithSilenceableSecond, openSharedDaemons, type SharedDaemons } from '../helpers/shared-daemons.js';
import { capturedLogLines } from '../helpers/services.js';
import { within } from '../helpers/wait.js';

/** Counts one daemon's token lookups; `hold` (when set) keeps the next lookup's answer until it resolves. */
const watchedLookups = (db: Db, count: () => void, hold: () => Promise<void> | undefined): Db =>
  interceptStatements(db, async (sql, _params, run) => {
    if (!sql.startsWith('SELECT * FROM tokens WHERE id')) return run();
    count();
    const result = await run();
    await hold();
    return result;
  });

describe('token revocation across daemons on one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let shared: SharedDaemons;
  let a: SupervisorApp;
  let b: SupervisorApp;
  let lookupsOnB = 0;
  let holdOnB: Promise<void> | undefined;
  /** Runs on A inside a project's removal, once every domain has released its part (before the commit). */
  let duringRemovalOnA: (() => Promise<void>) | undefined;
  let lagOnA = 0;
  /** Told when A writes a token's last use. */
  let touchingOnA: (() => void) | undefined;
  before(async () => {
    const takeHold = () => {
      const held = holdOnB;
      holdOnB = undefined;
      return held;
    };
    const removalWatched = (db: Db): Db => {
      const watched = interceptStatements(db, async (sql, _params, run) => {
        if (sql.startsWith('UPDATE tokens SET last_used_at')) touchingOnA?.();
        const result = await run();
        if (sql.startsWith('DELETE FROM projects')) await duringRemovalOnA?.();
        return result;
      });
      // Notifications reach A after `lagOnA` ms, as over a slow connection.
      return { ...watched, listen: (channel, handlers) => db.listen(channel, { ...handlers, message: (p) => (lagOnA ? setTimeout(() => handlers.message(p), lagOnA) : handlers.message(p)) }) };
    };
    shared = await openSharedDaemons(2, { wrap: (db, i) => (i === 1 ? watchedLookups(db, () => lookupsOnB++, takeHold) : removalWatched(db)) });
    [a, b] = shared.apps as [SupervisorApp, SupervisorApp];
  });
  after(() => shared?.close());

  test('B remembers a verified token, and refuses it within 1 s of its revocation on A', async () => {
    const { id, token } = await a.auth.tokens.create({ name: 'agent', project: 'consilio' });
    assert.deepEqual(await b.auth.tokens.verify(token), { role: 'project', project: 'consilio', actor: `token:agent(${id})` });
    const before = lookupsOnB;
    assert.ok(await b.auth.tokens.verify(token));
    assert.equal(lookupsOnB, before, 'the second verification is answered from memory');
    await a.auth.tokens.revoke(id);
    const took = await within(1_000, 'B refuses the revoked token', async () => (await b.auth.tokens.verify(token)) === undefined);
    assert.ok(took < 1_000);
  });

  test('a lookup on B under way when the revocation is heard does not put the token back in its memory', async () => {
    const { id, token } = await a.auth.tokens.create({ name: 'racing', project: 'consilio' });
    let release!: () => void;
    holdOnB = new Promise((resolve) => (release = resolve));
    const racing = b.auth.tokens.verify(token);
    await within(1_000, 'the lookup has read the token', () => holdOnB === undefined);
    const heard = b.auth.tokens.cacheStatus().revocationsHeard;
    await a.auth.tokens.revoke(id);
    await within(1_000, 'B hears the revocation', () => b.auth.tokens.cacheStatus().revocationsHeard > heard);
    release();
    assert.ok(await racing, 'the request that raced the revocation saw the token valid');
    assert.equal(await b.auth.tokens.verify(token), undefined, 'the next one is refused');
  });

  test('removing a project revokes its tokens on every daemon', async () => {
    const { token } = await a.auth.tokens.create({ name: 'p-agent', project: 'gone' });
    assert.ok(await b.auth.tokens.verify(token));
    await a.projects.add('test-admin', { name: 'gone' });
    await a.projects.remove('test-admin', { name: 'gone', force: true });
    await within(1_000, 'B refuses the project token', async () => (await b.auth.tokens.verify(token)) === undefined);
  });

  test("a project's token verified on the removing daemon while the removal is under way is refused once it commits", async () => {
    await a.projects.add('test-admin', { name: 'racing' });
    const { token } = await a.auth.tokens.create({ name: 'racing-agent', project: 'racing' });
    let verifying: Promise<unknown> | undefined;
    duringRemovalOnA = async () => {
      duringRemovalOnA = undefined;
      // Read on another connection, the token is still valid until the removal commits; the
      // verification's write of its last use waits for the removal, and ends after the commit.
      const touching = new Promise<void>((resolve) => (touchingOnA = resolve));
      verifying = a.auth.tokens.verify(token);
      await touching;
      touchingOnA = undefined;
    };
    // A does not rely on hearing its own revocation, which may come late.
    lagOnA = 500;
    try {
      await a.projects.remove('test-admin', { name: 'racing', force: true });
      assert.ok(await verifying, 'the verification under way read the token valid');
      assert.equal(await a.auth.tokens.verify(token), undefined);
    } finally {
      lagOnA = 0;
    }
  });

  test("while B's notification connection is down it does not trust what it remembers, and it recovers by itself", async () => {
    const { id, token } = await a.auth.tokens.create({ name: 'outage', project: 'consilio' });
    assert.ok(await b.auth.tokens.verify(token));
    const pid = b.auth.tokens.cacheStatus().listenerPid;
    assert.ok(pid, 'B listens');
    await terminateBackend(pid);
    await within(5_000, 'B notices the lost connection', async () => b.auth.tokens.cacheStatus().listenerPid !== pid);
    // Deaf or listening again, B refuses a revocation it may not have heard of.
    await a.auth.tokens.revoke(id);
    await within(1_000, 'B refuses the token revoked during the outage', async () => (await b.auth.tokens.verify(token)) === undefined);
    await within(10_000, 'B listens again', async () => b.auth.tokens.cacheStatus().listenerPid !== undefined);
    // The operator reads when it began (a warning) and ended.
    assert.ok(capturedLogLines.some((l) => /"level":40.*lost the notifications from other daemons \(\w+\): every token is looked up in the database at each request until they are back/.test(l)), 'the loss is logged');
    const fresh = await a.auth.tokens.create({ name: 'after', project: 'consilio' });
    assert.ok(await b.auth.tokens.verify(fresh.token));
    const before = lookupsOnB;
    assert.ok(await b.auth.tokens.verify(fresh.token));
    assert.equal(lookupsOnB, before, 'remembering again once it listens');
  });
});

describe('a daemon whose notification connection goes silent [postgres]', { skip: await skipReason('postgres') }, () => {
  const daemons = daemonsWithSilenceableSecond();

  test('refuses a token revoked meanwhile within 1 s, and listens again by itself', async () => {
    const [a, b] = daemons.apps();
    const { id, token } = await a.auth.tokens.create({ name: 'silent', project: 'consilio' });
    assert.ok(await b.auth.tokens.verify(token));
    const pid = b.auth.tokens.cacheStatus().listenerPid;
    assert.ok(pid, 'B listens');
    // No reset, no error: only silence, as when a NAT forgets an idle connection.
    await daemons.proxy().silence(pid);
    await a.auth.tokens.revoke(id);
    await within(1_000, 'B refuses the token revoked while it could not hear', async () => (await b.auth.tokens.verify(token)) === undefined);
    await within(10_000, 'B listens again', () => ![undefined, pid].includes(b.auth.tokens.cacheStatus().listenerPid));
  });
});
