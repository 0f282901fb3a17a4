// An install upgraded from a version without project_removed_at: loops of projects removed
// before the upgrade are history too, not readable by a later project of that name.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DOMAINS } from '../../src/app.js';
import { migrate } from '../../src/core/migrate.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';

const NEW = '202612012300_piv_runs_project_removed.sql';
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

for (const backend of testBackends()) {
  test(`the upgrade marks the loops of projects removed before it [${backend}]`, { skip: await skipReason(backend) }, async () => {
    const agent = DOMAINS.find((d) => d.id === 'agent')!;
    const own = fileURLToPath(agent.migrations!);
    const older = mkdtempSync(join(tmpdir(), 'supervisor-agent-migrations-'));
    dirs.push(older);
    for (const f of readdirSync(own).filter((f) => f < NEW)) copyFileSync(join(own, f), join(older, f));
    const db = await openTestDb(backend, { empty: true });
    try {
      await migrate(db, DOMAINS.map((d) => (d.id === 'agent' ? { ...d, migrations: pathToFileURL(`${older}/`) } : d)));
      const at = new Date('2026-11-30T00:00:00Z');
      await db.query('INSERT INTO projects (name, created_at, updated_at) VALUES ($1, $2, $2)', ['kept', at]);
      for (const [id, project] of [['run-kept', 'kept'], ['run-gone', 'gone']]) {
        await db.query("INSERT INTO piv_runs (id, project, feature, status, created_by, created_at, updated_at) VALUES ($1, $2, 'f', 'succeeded', 'admin', $3, $3)", [id, project, at]);
      }
      assert.deepEqual(await migrate(db, DOMAINS), [`agent/${NEW.replace(/\.sql$/, '')}`]);
      const { rows } = await db.query<{ id: string; removed: boolean }>('SELECT id, project_removed_at IS NOT NULL AS removed FROM piv_runs ORDER BY id');
      assert.deepEqual(rows.map((r) => [r.id, r.removed]), [['run-gone', true], ['run-kept', false]]);
    } finally {
      await db.close();
    }
  });
}
