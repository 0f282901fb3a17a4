/**
 * The embedded database's first start: the cluster is made in a child process (so the
 * daemon does not keep initdb's memory) and in a temp folder moved into place when
 * complete, so a crash midway leaves nothing half-made; the tuned settings apply.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../../src/core/db-pglite.js';
import { DOMAINS } from '../../src/app.js';

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));
const newRoot = async () => {
  const root = await mkdtemp(join(tmpdir(), 'supervisor-pglite-'));
  roots.push(root);
  return root;
};

describe('the embedded database on first start', () => {
  test('is created whole, keeps its data, runs with the small-VM settings, and clears what a killed first start left', async () => {
    const root = await newRoot();
    const dataDir = join(root, 'db');
    // What a first start killed during initdb leaves behind: a temp folder, half made.
    await mkdir(join(root, '.db.init-4242', 'base'), { recursive: true });
    await mkdir(dataDir);
    const db = await openPglite({ dataDir });
    assert.ok(existsSync(join(dataDir, 'PG_VERSION')));
    assert.deepEqual((await readdir(root)).sort(), ['db'], 'no temp folder left');
    assert.equal((await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]!.shared_buffers, '8MB');
    await db.query('CREATE TABLE kept (v text)');
    await db.query("INSERT INTO kept VALUES ('still here')");
    await db.close();
    const again = await openPglite({ dataDir });
    assert.deepEqual((await again.query('SELECT v FROM kept')).rows, [{ v: 'still here' }]);
    await again.close();
  });

  test('arrives migrated by the child that made it; a migration that fails leaves no cluster in place', async () => {
    const root = await newRoot();
    const db = await openPglite({ dataDir: join(root, 'db'), migrations: DOMAINS });
    const { rows } = await db.query<{ domain: string }>('SELECT DISTINCT domain FROM domain_migrations ORDER BY domain');
    // Core's own (src/core/migrations) beside the domains'.
    const withMigrations = ['core', ...DOMAINS.filter((d) => d.migrations).map((d) => d.id)].sort();
    assert.deepEqual(rows.map((r) => r.domain), withMigrations);
    assert.equal((await db.query('SELECT 1 FROM secrets')).rowCount, 0, 'baseline tables are there');
    await db.close();

    const broken = join(root, 'broken-migrations');
    await mkdir(broken);
    await writeFile(join(broken, '202611300000_broken.sql'), 'CREATE TABLE nope (;');
    const dataDir = join(root, 'db2');
    await assert.rejects(openPglite({ dataDir, migrations: [{ id: 'broken', migrations: new URL(`file://${broken}/`) }] }), /could not create the embedded database/);
    assert.equal(existsSync(dataDir), false, 'nothing put in place');
    assert.deepEqual((await readdir(root)).filter((n) => n.startsWith('.db2.init-')), [], 'no temp folder left');
  });

  test('a folder holding other files is refused, and its files are left alone', async () => {
    const root = await newRoot();
    const dataDir = join(root, 'db');
    await mkdir(dataDir);
    await writeFile(join(dataDir, 'notes.txt'), 'mine');
    await assert.rejects(openPglite({ dataDir }), /holds files but no database cluster \(no PG_VERSION\); move it away/);
    assert.deepEqual(await readdir(dataDir), ['notes.txt']);
  });
});
