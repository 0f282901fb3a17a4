import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { DOMAINS } from '../../src/app.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { migrate } from '../../src/core/migrate.js';
import { openTestDb, skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';

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
    const { rows } = await dbs[0]!.query<{ n: number }>('SELECT (SELECT count(*) FROM schema_migrations) + (SELECT count(*) FROM domain_migrations) AS n');
    assert.equal(Number(rows[0]!.n), applied.flat().length);
    assert.deepEqual(await migrate(dbs[1]!), []);
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
});

test('a build older than the database (a newer daemon migrated it) is refused, naming what it does not know; nothing is applied', { skip: await skipReason('postgres') }, async () => {
  const db = await openTestDb('postgres');
  try {
    await db.query("INSERT INTO domain_migrations (domain, name) VALUES ('tasks', '209912010000_from_a_newer_build')");
    await db.query("INSERT INTO schema_migrations (version, name) VALUES (9999, '9999_from_a_newer_build')");
    const tasksMigrations = DOMAINS.find((d) => d.id === 'tasks')!.migrations!;
    const pending = await mkdtemp(join(tmpdir(), 'supervisor-migrations-'));
    await cp(fileURLToPath(tasksMigrations), pending, { recursive: true });
    await writeFile(join(pending, '209912020000_never_applied.sql'), 'CREATE TABLE never_applied (x int);');
    const domains = DOMAINS.map((d) => (d.id === 'tasks' ? { ...d, migrations: pathToFileURL(`${pending}/`) } : d));
    await assert.rejects(migrate(db, domains), isError('conflict', /migrated by a newer Supervisor \(9999_from_a_newer_build, tasks\/209912010000_from_a_newer_build unknown/));
    const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('never_applied')::text AS t");
    assert.equal(rows[0]!.t, null, 'nothing applied');
    await rm(pending, { recursive: true, force: true });
  } finally {
    await db.close();
  }
});

test('a migration under way in another schema of the same database does not hold this one up', { skip: await skipReason('postgres') }, async () => {
  // Two installations (two test runs, two supervisors on one server) in schemas of one database.
  const [other, own] = await Promise.all([openTestDb('postgres', { empty: true }), openTestDb('postgres', { empty: true })]);
  const slow = await mkdtemp(join(tmpdir(), 'supervisor-migrations-'));
  const marker = `slow migration ${randomBytes(4).toString('hex')}`;
  await writeFile(join(slow, '209901010000_slow.sql'), `SELECT pg_sleep(4) /* ${marker} */;`);
  try {
    let otherDone = false;
    const otherMigrating = migrate(other, [{ id: 'slow', migrations: pathToFileURL(`${slow}/`) }]).then(() => (otherDone = true));
    // The other installation holds its migration lock while it sleeps in its last migration.
    for (let tries = 0; ; tries++) {
      const { rows } = await own.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%${marker}%' AND pid <> pg_backend_pid()`);
      if (rows[0]!.n > 0) break;
      assert.ok(tries < 200, 'the other migration reaches its slow step');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok((await migrate(own)).length > 0, 'this schema migrated');
    assert.equal(otherDone, false, 'while the other was still migrating');
    await otherMigrating;
  } finally {
    await Promise.all([other.close(), own.close()]);
    await rm(slow, { recursive: true, force: true });
  }
});

test('a migration, and the wait for another daemon migrating, may take longer than the statement limit', { skip: await skipReason('postgres') }, async () => {
  const owner = await openTestDb('postgres', { empty: true });
  const schema = (await owner.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
  // Two daemons starting together, each allowed 0.5 s per ordinary statement.
  const daemons = await Promise.all([0, 1].map(() => openPostgres({ connectionString: TEST_DATABASE_URL, schema, statementTimeoutMs: 500 })));
  const slow = await mkdtemp(join(tmpdir(), 'supervisor-migrations-'));
  await writeFile(join(slow, '209901010000_slow.sql'), 'SELECT pg_sleep(1);');
  try {
    const applied = await Promise.all(daemons.map((db) => migrate(db, [{ id: 'slow', migrations: pathToFileURL(`${slow}/`) }])));
    assert.deepEqual(applied.flat().filter((name) => name.startsWith('slow/')), ['slow/209901010000_slow']);
  } finally {
    await Promise.all(daemons.map((db) => db.close()));
    await owner.close();
    await rm(slow, { recursive: true, force: true });
  }
});

test("a role that may not create in its schema is told the grant or the schema to use, not 'internal'", { skip: await skipReason('postgres') }, async () => {
  const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`;
  const [role, schema] = [`mig_norights_${suffix}`, `mig_shared_${suffix}`];
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  const url = new URL(TEST_DATABASE_URL);
  url.username = role;
  const db = await openPostgres({ connectionString: url.toString(), schema });
  try {
    await assert.rejects(
      migrate(db, DOMAINS),
      isError('not_configured', new RegExp(`^PostgreSQL role ${role} may not create the install's tables in schema ${schema} \\(permission denied for schema ${schema}\\): grant it \\(GRANT CREATE ON SCHEMA ${schema} TO ${role}\\), or point DATABASE_URL at a schema it owns`)),
    );
  } finally {
    await db.close();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.query(`DROP ROLE ${role}`);
    await admin.end();
  }
});
