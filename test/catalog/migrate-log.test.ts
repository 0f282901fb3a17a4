// Migrations a start applies are said in the log and kept in the audit trail: an upgrade left
// no trace of what it changed in the database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, openApp } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/core/log.js';
import { Writable } from 'node:stream';
import { openTestDb } from '../helpers/db.js';

test('a start that migrates logs the migrations and audits them; a start with nothing to apply does neither', async () => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-migrate-log-'));
  const lines: string[] = [];
  const log = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) }));
  const db = await openTestDb('pglite', { empty: true });
  const open = () => openApp({ config: loadConfig({ SUPERVISOR_HOME: home }), db: { ...db, kind: db.kind, close: async () => undefined }, clock: new ManualClock(), log });
  try {
    await (await open()).close();
    const said = lines.map((l) => JSON.parse(l) as { msg: string; migrations?: string[] }).filter((l) => l.msg.startsWith('database migrated'));
    assert.equal(said.length, 1);
    assert.ok(said[0]!.migrations!.includes('0001_init') && said[0]!.migrations!.includes('agent/202612012300_piv_runs_project_removed'), JSON.stringify(said[0]));
    const audited = await db.query<{ actor: string; detail: { migrations: string[] } }>("SELECT actor, detail FROM audit_log WHERE action = 'database.migrate'");
    assert.deepEqual(audited.rows.map((r) => [r.actor, r.detail.migrations.length]), [['system:supervisor', said[0]!.migrations!.length]]);
    await (await open()).close();
    assert.equal(lines.filter((l) => l.includes('database migrated')).length, 1, 'nothing to apply, nothing said');
  } finally {
    await db.close();
    await rm(home, { recursive: true, force: true });
  }
});
