import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres } from '../../src/core/db-postgres.js';
import { migrate } from '../../src/core/migrate.js';
import { skipReason, TEST_DATABASE_URL } from '../helpers/db.js';

test('migrations started by several processes at once apply exactly once', { skip: await skipReason('postgres') }, async () => {
  const schema = `t_mig_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  // Separate pools stand in for separate daemons starting together.
  const dbs = await Promise.all(Array.from({ length: 4 }, () => openPostgres({ connectionString: TEST_DATABASE_URL, schema })));
  try {
    const applied = await Promise.all(dbs.map((db) => migrate(db)));
    assert.equal(applied.filter((names) => names.length > 0).length, 1, 'one process applies, the others find it done');
    const { rows } = await dbs[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    assert.equal(rows[0]!.n, applied.flat().length);
    assert.deepEqual(await migrate(dbs[1]!), []);
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
});
