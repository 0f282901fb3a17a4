// What a sync costs the database: the owned-rules set (tunnel_owned_rules) is rewritten only
// when it changes, and in one statement, not one INSERT per route on every sync.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminPrincipal } from '../../src/core/principal.js';
import type { Db, TransactionOptions, Tx } from '../../src/core/db.js';
import { testBackends, skipReason } from '../helpers/db.js';
import { openCloudflareFixture, type CloudflareFixture } from './fixture.js';
import { addProject } from '../helpers/projects.js';

const admin = adminPrincipal('test-admin');

/** Counts the writes to tunnel_owned_rules that go through `db`, inside transactions too. */
function countOwnedWrites(db: Db): { count: number } {
  const seen = { count: 0 };
  const note = (sql: string) => {
    if (/^\s*(INSERT|DELETE|UPDATE)\b/i.test(sql) && sql.includes('tunnel_owned_rules')) seen.count++;
  };
  const query = db.query.bind(db);
  const transaction = db.transaction.bind(db);
  Object.assign(db, {
    query: <T>(sql: string, params?: readonly unknown[]) => {
      note(sql);
      return query<T>(sql, params);
    },
    transaction: <T>(fn: (tx: Tx) => Promise<T>, options?: TransactionOptions) =>
      transaction(
        (tx) =>
          fn({
            exec: (sql) => tx.exec(sql),
            query: <R>(sql: string, params?: readonly unknown[]) => {
              note(sql);
              return tx.query<R>(sql, params);
            },
          }),
        options,
      ),
  });
  return seen;
}

async function ownedRows(f: CloudflareFixture): Promise<string[]> {
  const { rows } = await f.services.db.query<{ hostname: string }>('SELECT hostname FROM tunnel_owned_rules WHERE tunnel_id = $1', [f.tunnelId]);
  return rows.map((r) => r.hostname).sort();
}

for (const backend of testBackends()) {
  describe(`tunnel sync database cost (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { mode: 'remote' });
    });
    after(() => f.close());

    test('a sync that changes nothing writes no owned rules; a change rewrites them in one statement', async () => {
      await addProject(f.services, 'test', { name: 'web', range: { start: 20000, end: 20099 } });
      for (let i = 0; i < 60; i++) {
        await f.services.ports.allocate(admin, { project: 'web', service: `s${i}`, hostname: i % 2 === 0 ? `svc${i}.example.com` : `svc${i}.api.dev.example.com` });
      }
      await f.invoke('sync_tunnel', {});
      const writes = countOwnedWrites(f.services.db);

      const idle = await f.invoke('sync_tunnel', {});
      assert.equal(idle.changed, false);
      assert.equal(writes.count, 0, 'nothing changed: tunnel_owned_rules untouched (was a DELETE and 60 INSERTs)');

      await f.services.ports.allocate(admin, { project: 'web', service: 's0', hostname: 'moved0.example.com' });
      await f.services.ports.release(admin, { project: 'web', service: 's1' });
      const changed = await f.invoke('sync_tunnel', {});
      assert.equal(changed.changed, true);
      assert.ok(writes.count <= 2, `owned rules rewritten with at most a DELETE and one INSERT, got ${writes.count} statements`);
      const expected = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? `svc${i}.example.com` : `svc${i}.api.dev.example.com`))
        .filter((h) => h !== 'svc0.example.com' && h !== 'svc1.api.dev.example.com')
        .concat('moved0.example.com')
        .sort();
      assert.deepEqual(await ownedRows(f), expected);

      // The next sync after the change is idle again, and the moved rule is still ours (removed when released).
      writes.count = 0;
      assert.equal((await f.invoke('sync_tunnel', {})).changed, false);
      assert.equal(writes.count, 0);
      await f.services.ports.release(admin, { project: 'web', service: 's0' });
      const removed = (await f.invoke('sync_tunnel', {})) as { routes: { remove: Array<{ hostname: string }> } };
      assert.deepEqual(removed.routes.remove.map((r) => r.hostname), ['moved0.example.com']);
      assert.equal((await ownedRows(f)).includes('moved0.example.com'), false);
    });
  });
}
