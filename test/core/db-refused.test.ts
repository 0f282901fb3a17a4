// A database that stops taking connections for a while (ALLOW_CONNECTIONS false, a drop, a
// full server) is the database being unavailable, not an internal error: callers retry 503s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres } from '../../src/core/db-postgres.js';
import { skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';

test('a database refusing new connections answers unavailable, and is used again once it takes them', { skip: await skipReason('postgres') }, async () => {
  const name = `t_refused_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const db = await openPostgres({ connectionString: url.toString() });
  try {
    assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
    // The first statement may meet its terminated session; the next ones reconnect and are refused.
    for (let i = 0; i < 3; i++) {
      await assert.rejects(db.query('SELECT 1'), isError('unavailable', /PostgreSQL/));
    }
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
  } finally {
    await db.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});
