import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditLog } from '../../src/core/audit.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { TokenService } from '../../src/auth/tokens.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';
import { interceptStatements } from '../helpers/db-intercept.js';

for (const backend of testBackends()) {
  describe(`TokenService.verify [${backend}]`, { skip: await skipReason(backend) }, () => {
    let db: Db;
    let tokens: TokenService;
    const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
    const statements: string[] = [];
    before(async () => {
      db = await openTestDb(backend);
      // Every statement the service sends, to count the lookups and last-used writes.
      const counted = interceptStatements(db, (sql, _params, run) => {
        statements.push(sql);
        return run();
      });
      tokens = new TokenService(counted, clock, new AuditLog(db, clock));
      // Listening for revocations, as the daemon does: only then are verified tokens remembered.
      await tokens.start();
    });
    after(async () => {
      await tokens.stop();
      await db.close();
    });

    const count = (prefix: string) => statements.filter((s) => s.startsWith(prefix)).length;

    test('last_used_at is written at most once a minute per token, however often the cache is refreshed', async () => {
      const { token, id } = await tokens.create({ name: 'busy', project: 'consilio' });
      statements.length = 0;
      // Ten minutes of requests, one every 5 s: the 10 s cache is refreshed every other request.
      for (let second = 0; second < 600; second += 5) {
        assert.equal((await tokens.verify(token))?.actor, `token:busy(${id})`);
        clock.advance(5_000);
      }
      assert.equal(count('UPDATE tokens'), 10, `one write per minute: ${count('UPDATE tokens')}`);
      assert.equal(count('SELECT * FROM tokens'), 60, 'one lookup per cache expiry');
      const [info] = await tokens.list({ project: 'consilio' });
      assert.equal(info?.lastUsedAt?.getTime(), clock.now().getTime() - 60_000, 'the last write, at 9 minutes');
    });

    test('concurrent requests with an expired cache share one lookup and write last_used_at once', async () => {
      const { token } = await tokens.create({ name: 'burst', project: 'consilio' });
      await tokens.verify(token);
      clock.advance(61_000);
      statements.length = 0;
      const principals = await Promise.all(Array.from({ length: 20 }, () => tokens.verify(token)));
      assert.ok(principals.every((p) => p?.role === 'project'));
      assert.deepEqual([count('SELECT * FROM tokens'), count('UPDATE tokens')], [1, 1]);
    });

    test('refusals name the operation and the field, as REST and MCP callers call them; the CLI says its command and flag', async () => {
      const { catalog } = await import('../../src/app.js');
      const { describeCommands } = await import('../../src/cli/commands.js');
      const { inCliTerms } = await import('../../src/cli/cli-terms.js');
      const commands = describeCommands(catalog).commands;
      const messageOf = async (work: Promise<unknown>) => ((await work.then(() => assert.fail('taken'), (err: Error) => err)) as Error).message;
      const unknown = await messageOf(tokens.revoke('000000000000'));
      assert.equal(unknown, 'no token with id 000000000000; `list_tokens` shows them');
      assert.equal(inCliTerms(unknown, commands), 'no token with id 000000000000; `supervisor token list` shows them');
      const meta = await messageOf(tokens.create({ name: 'x', project: 'meta' }));
      assert.equal(meta, 'project "meta" is the admin scope; create an admin token instead (admin)');
      assert.equal(inCliTerms(meta, commands), 'project "meta" is the admin scope; create an admin token instead (--admin)');
    });

    test('a wrong secret is refused and revocation takes effect at once', async () => {
      const { token, id } = await tokens.create({ name: 'gone', project: 'consilio' });
      assert.equal(await tokens.verify(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`), undefined);
      assert.ok(await tokens.verify(token));
      await tokens.revoke(id);
      assert.equal(await tokens.verify(token), undefined);
    });

    test('creating and revoking a token are audited with who did it and the scope, never the secret; a second revoke is not', async () => {
      const audit = new AuditLog(db, clock);
      // Another admin token stays in use: the last one cannot be revoked.
      await tokens.create({ name: 'ops', project: null });
      const { token, id } = await tokens.create({ name: 'deploy bot', project: null }, 'token:ops(aaaaaaaaaaaa)');
      await tokens.revoke(id, 'token:ops(aaaaaaaaaaaa)');
      await tokens.revoke(id, 'token:other(bbbbbbbbbbbb)');
      const rows = await audit.list({ target: id, limit: 10 });
      assert.deepEqual(
        rows.map((r) => [r.actor, r.action, r.outcome, r.detail]).reverse(),
        [
          ['token:ops(aaaaaaaaaaaa)', 'token.create', 'ok', { name: 'deploy bot', scope: 'admin' }],
          ['token:ops(aaaaaaaaaaaa)', 'token.revoke', 'ok', { name: 'deploy bot', scope: 'admin' }],
        ],
      );
      // The secret is base64url, which may itself hold '_': take everything after `svt_<id>_`.
      const secret = token.slice(`svt_${id}_`.length);
      assert.equal(secret.length, 43);
      assert.ok(!JSON.stringify(rows).includes(secret), 'the secret is not in the audit log');
    });
  });
}

for (const backend of testBackends()) {
  describe(`admin tokens are never all gone by accident [${backend}]`, { skip: await skipReason(backend) }, () => {
    test('the last admin token in use cannot be revoked; two revoked at once leave one', async () => {
      const db = await openTestDb(backend);
      const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
      const tokens = new TokenService(db, clock, new AuditLog(db, clock));
      try {
        const first = (await tokens.createFirstAdmin('system:first-start'))!;
        const project = await tokens.create({ name: 'p', project: 'consilio' });
        await assert.rejects(tokens.revoke(first.id), (err: Error) => /^token \w+ is the last admin token in use; .*supervisor token create <name> --admin/.test(err.message));
        await tokens.revoke(project.id);
        const second = await tokens.create({ name: 'second', project: null });
        const both = await Promise.allSettled([tokens.revoke(first.id), tokens.revoke(second.id)]);
        assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1, 'one of the two stays');
        assert.equal((await tokens.list({})).filter((t) => t.project === null).length, 1);
      } finally {
        await db.close();
      }
    });

    test('a start finds revoked admin tokens and makes none: they were revoked on purpose', async () => {
      const db = await openTestDb(backend);
      const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
      const tokens = new TokenService(db, clock, new AuditLog(db, clock));
      try {
        assert.ok(await tokens.createFirstAdmin('system:first-start'));
        // As a database from before the last-admin rule could be left.
        await db.query('UPDATE tokens SET revoked_at = now() WHERE project IS NULL');
        assert.equal(await tokens.createFirstAdmin('system:first-start'), undefined);
      } finally {
        await db.close();
      }
    });
  });
}

describe('the first admin token, daemons starting together on an empty database [postgres]', { skip: await skipReason('postgres') }, () => {
  test('one daemon makes it, the others find it', async () => {
    const first = await openTestDb('postgres');
    const schema = (await first.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    // Pools of their own, as separate daemons have.
    const others = await Promise.all([1, 2].map(() => openTestDb('postgres', { schema })));
    const clock = new ManualClock(new Date('2026-11-23T10:00:00Z'));
    const services = [first, ...others].map((db) => new TokenService(db, clock, new AuditLog(db, clock)));
    try {
      for (let round = 0; round < 10; round++) {
        const made = (await Promise.all(services.map((s) => s.createFirstAdmin('system:first-start')))).filter((t) => t !== undefined);
        assert.equal(made.length, 1, `round ${round}: one first admin token, not one per daemon`);
        // The next round starts again with no admin token.
        await first.query('DELETE FROM tokens WHERE project IS NULL');
      }
      // A project token is not an admin token: it does not stop the first start from making one.
      await services[0]!.create({ name: 'p', project: 'consilio' });
      assert.ok(await services[1]!.createFirstAdmin('system:first-start'));
      assert.equal(await services[2]!.createFirstAdmin('system:first-start'), undefined);
    } finally {
      await Promise.all(others.map((db) => db.close()));
      await first.close();
    }
  });
});
