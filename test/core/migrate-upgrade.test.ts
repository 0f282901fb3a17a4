/**
 * A database made by the code before projects were their own domain (baseline
 * 0001-0005) upgrades without losing a row: names, descriptions, ranges and
 * allocations move to projects + port_ranges, and allocation keeps working.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMAINS } from '../../src/app.js';
import type { Db } from '../../src/core/db.js';
import { migrate, MIGRATIONS_DIR } from '../../src/core/migrate.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';

/** The baseline as it was before migration 0006. */
function oldBaseline(): string {
  const dir = mkdtempSync(join(tmpdir(), 'supervisor-old-migrations-'));
  for (const f of readdirSync(MIGRATIONS_DIR).filter((f) => f < '0006')) copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
  return dir;
}

for (const backend of testBackends()) {
  describe(`upgrading a database made before the projects domain [${backend}]`, { skip: await skipReason(backend) }, () => {
    let db: Db;
    let dir: string;
    before(async () => {
      dir = oldBaseline();
      db = await openTestDb(backend, { empty: true });
      await migrate(db, [], dir);
      const now = new Date('2026-11-01T00:00:00Z');
      await db.query(`INSERT INTO projects (name, port_range, description, created_at) VALUES
        ('meta', int4range(3000, 3099, '[]'), 'The supervisor', $1),
        ('consilio', int4range(4000, 4999, '[]'), 'case tracker', $1)`, [now]);
      await db.query(`INSERT INTO port_allocations (project, service, host, port, protocol, hostname, created_at) VALUES
        ('consilio', 'api', 'local', 4000, 'tcp', 'api.consilio.example.com', $1),
        ('meta', 'supervisor', 'local', 3000, 'tcp', NULL, $1)`, [now]);
    });
    after(async () => {
      await db?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the upgrade applies 0006 and every domain, and keeps every row', async () => {
      const applied = await migrate(db, DOMAINS);
      assert.ok(applied.includes('0006_projects_domain'), applied.join(', '));
      const { rows: projects } = await db.query<{ name: string; description: string | null; directory: string | null; created_at: Date }>('SELECT name, description, directory, created_at FROM projects ORDER BY name');
      assert.deepEqual(projects.map((p) => [p.name, p.description, p.directory, p.created_at.toISOString()]), [
        ['consilio', 'case tracker', null, '2026-11-01T00:00:00.000Z'],
        ['meta', 'The supervisor', null, '2026-11-01T00:00:00.000Z'],
      ]);
      const { rows: ranges } = await db.query<{ project: string; first: number; last: number }>('SELECT project, lower(port_range) AS first, upper(port_range) - 1 AS last FROM port_ranges ORDER BY project');
      assert.deepEqual(ranges.map((r) => [r.project, r.first, r.last]), [['consilio', 4000, 4999], ['meta', 3000, 3099]]);
      const { rows: allocations } = await db.query<{ project: string; service: string; port: number; hostname: string | null }>('SELECT project, service, port, hostname FROM port_allocations ORDER BY port');
      assert.deepEqual(allocations.map((a) => [a.project, a.service, a.port, a.hostname]), [['meta', 'supervisor', 3000, null], ['consilio', 'api', 4000, 'api.consilio.example.com']]);
    });

    test('after the upgrade, allocation finds the range in port_ranges, and the rules still hold', async () => {
      const { rows } = await db.query<{ port: number; created: boolean }>(`SELECT port, created FROM port_allocate('consilio', 'web', 'local', 'tcp', NULL, NULL, NULL, NULL, '{}', now(), 'test')`);
      assert.deepEqual(rows.map((r) => [r.port, r.created]), [[4001, true]]);
      await assert.rejects(db.query(`UPDATE port_ranges SET port_range = int4range(4002, 4999, '[]') WHERE project = 'consilio'`), /allocated outside the new range/);
      await assert.rejects(db.query(`INSERT INTO port_ranges (project, port_range, created_at) VALUES ('ghost', int4range(7000, 7099, '[]'), now())`), /foreign key/);
      assert.deepEqual(await migrate(db, DOMAINS), [], 'a second run applies nothing');
    });
  });
}
