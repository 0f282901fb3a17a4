// A daemon that will refuse to start for want of the master key a shared keyring needs refuses
// before it migrates: an upgrade tried on one host must not move a database that older daemons
// still use to a schema they refuse. PostgreSQL only: the embedded database has one daemon.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, openApp } from '../../src/app.js';
import { ManualClock } from '../../src/core/clock.js';
import type { Db } from '../../src/core/db.js';
import { createLogger } from '../../src/core/log.js';
import { openTestDb, skipReason } from '../helpers/db.js';
import { captureStream } from '../helpers/services.js';

const LATEST = '202612020600_instruction_blocks_history';

describe('a start without the master key the shared keyring needs [postgres]', { skip: await skipReason('postgres') }, () => {
  let owner: Db;
  let schema: string;
  const homes: string[] = [];
  const open = async (home: string) =>
    openApp({ config: loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_LOG_LEVEL: 'warn' }), db: await openTestDb('postgres', { schema }), clock: new ManualClock(), log: createLogger('warn', captureStream()) });

  before(async () => {
    owner = await openTestDb('postgres');
    schema = (await owner.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]!.schema;
    for (let i = 0; i < 2; i++) homes.push(await mkdtemp(join(tmpdir(), 'supervisor-preflight-')));
  });
  after(async () => {
    await owner?.close();
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });

  test('is refused naming the key, before any migration is applied; with the key it starts and migrates', async () => {
    // The first host makes the keyring, wrapped by the master key in its data dir.
    await (await open(homes[0]!)).close();
    // An older schema: the latest migration not applied yet.
    await owner.query(`DELETE FROM domain_migrations WHERE domain = 'instructions' AND name LIKE $1`, [`${LATEST}%`]);
    await owner.query('ALTER TABLE instruction_blocks DROP CONSTRAINT instruction_blocks_pkey');
    await owner.query('ALTER TABLE instruction_blocks ADD PRIMARY KEY (project, file)');
    const applied = async () => (await owner.query(`SELECT name FROM domain_migrations WHERE name LIKE $1`, [`${LATEST}%`])).rows.length;

    await assert.rejects(open(homes[1]!), /the keyring needs master key [0-9a-f]+ .*which is not in/);
    assert.equal(await applied(), 0, 'the database was not migrated by the start that refused');

    await (await open(homes[0]!)).close();
    assert.equal(await applied(), 1);
  });
});
