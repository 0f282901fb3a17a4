// A data dir whose database is PostgreSQL remembers it: a command run without DATABASE_URL is
// refused, saying how to go on, instead of opening a new, empty embedded database there.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DOMAINS, loadConfig } from '../../src/app.js';
import { configFilePath } from '../../src/core/config.js';
import { migrate } from '../../src/core/migrate.js';
import { dataDirFiles, ensureDataDir } from '../../src/core/datadir.js';
import { withoutPassword } from '../../src/core/masked-url.js';
import { forgetPostgres, openDatabase } from '../../src/core/open-db.js';
import { openTestDb, skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { isError } from '../helpers/errors.js';

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 'supervisor-open-db-'));
  await ensureDataDir(home);
});
after(() => rm(home, { recursive: true, force: true }));

test('opened on PostgreSQL, the data dir refuses to open an embedded database until the data is copied back', { skip: await skipReason('postgres') }, async () => {
  const url = new URL(TEST_DATABASE_URL);
  url.password = 'hunter2';
  const withUrl = loadConfig({ SUPERVISOR_HOME: home, DATABASE_URL: TEST_DATABASE_URL });
  await (await openDatabase(withUrl)).close();
  const marker = dataDirFiles(home).postgresMarker;
  assert.deepEqual(JSON.parse(await readFile(marker, 'utf8')), { database: withoutPassword(TEST_DATABASE_URL) });
  assert.equal(withoutPassword(url.toString()).includes('hunter2'), false, 'a password is never written');

  await assert.rejects(openDatabase(loadConfig({ SUPERVISOR_HOME: home })), isError('not_configured', /^this data dir's database is postgres.* \(opened with DATABASE_URL\), and DATABASE_URL is not set here: .*Set DATABASE_URL as the daemon has it/));
  assert.equal(existsSync(dataDirFiles(home).db), false, 'no embedded database was created');

  await forgetPostgres(home);
  const embedded = await openDatabase(loadConfig({ SUPERVISOR_HOME: home }));
  await embedded.close();
  assert.equal(existsSync(dataDirFiles(home).db), true);
});

test('the daemon database limits its statements to databaseStatementTimeoutMs, on the server too', { skip: await skipReason('postgres') }, async () => {
  const own = await mkdtemp(join(tmpdir(), 'supervisor-open-db-'));
  const db = await openDatabase(loadConfig({ SUPERVISOR_HOME: own, DATABASE_URL: TEST_DATABASE_URL, SUPERVISOR_DATABASE_STATEMENT_TIMEOUT_MS: '1500' }));
  try {
    assert.equal((await db.query<{ statement_timeout: string }>('SHOW statement_timeout')).rows[0]!.statement_timeout, '1500ms');
  } finally {
    await db.close();
    await rm(own, { recursive: true, force: true });
  }
});

test('the daemon database opens at most databasePoolSize pooled connections, queueing the rest (a role with a CONNECTION LIMIT)', { skip: await skipReason('postgres') }, async () => {
  const own = await mkdtemp(join(tmpdir(), 'supervisor-open-db-'));
  const db = await openDatabase(loadConfig({ SUPERVISOR_HOME: own, DATABASE_URL: TEST_DATABASE_URL, SUPERVISOR_DATABASE_POOL_SIZE: '2' }));
  try {
    const answers = await Promise.all(Array.from({ length: 8 }, () => db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)')));
    assert.equal(new Set(answers.map((a) => a.rows[0]!.pid)).size, 2);
  } finally {
    await db.close();
    await rm(own, { recursive: true, force: true });
  }
});

test("a data dir's first switch to PostgreSQL is refused while its embedded database holds the install and PostgreSQL has none of it", { skip: await skipReason('postgres') }, async () => {
  const own = await mkdtemp(join(tmpdir(), 'supervisor-open-db-'));
  const schema = `t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const url = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  try {
    await (await openDatabase(loadConfig({ SUPERVISOR_HOME: own }))).close();
    const onPostgres = loadConfig({ SUPERVISOR_HOME: own, DATABASE_URL: url });
    await assert.rejects(openDatabase(onPostgres), isError('not_configured', /^this data dir's embedded database \(.*\/db\) holds the install, and postgres:.* \(DATABASE_URL\) has none of it yet: .*supervisor storage copy --to <url>.*To start empty on PostgreSQL instead, move .*\/db out of the data dir$/));
    assert.equal(existsSync(dataDirFiles(own).postgresMarker), false, 'the data dir is not switched');
    // Once the data is there (storage copy --to migrates the target first), the switch is made.
    const copied = await openTestDb('postgres', { schema });
    await migrate(copied, DOMAINS);
    await copied.close();
    await (await openDatabase(onPostgres)).close();
    assert.equal(existsSync(dataDirFiles(own).postgresMarker), true);
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
    await rm(own, { recursive: true, force: true });
  }
});

test('a database URL from the config file that does not connect names the file to edit (config set needs the database it cannot reach)', async () => {
  const own = await mkdtemp(join(tmpdir(), 'supervisor-open-db-'));
  try {
    const file = configFilePath({}, own);
    await writeFile(file, 'databaseUrl: postgres://postgres@127.0.0.1:1/nowhere\n');
    await assert.rejects(
      openDatabase(loadConfig({ SUPERVISOR_HOME: own })),
      isError('unavailable', new RegExp(`^cannot connect to PostgreSQL: .*; check databaseUrl in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(edit or remove that line there\\)$`)),
    );
    await assert.rejects(openDatabase(loadConfig({ SUPERVISOR_HOME: own, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/other' })), isError('unavailable', /; check DATABASE_URL$/));
  } finally {
    await rm(own, { recursive: true, force: true });
  }
});
