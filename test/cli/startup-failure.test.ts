/**
 * A start that cannot succeed must end: the daemon and the CLI print why and exit
 * non-zero, on both backends, instead of printing the error and keeping the
 * process (and the embedded database, and its lock) alive — a process manager
 * must see it fail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { dataDirFiles } from '../../src/core/datadir.js';
import { skipReason, TEST_DATABASE_URL, testBackends } from '../helpers/db.js';
import { assertCliBuilt, cliEnv, describeResult, runCli, startCli } from './run-cli.js';

const otherKey = () => randomBytes(32).toString('hex');

/** How long a process may take to exit once it has printed its error: the bug kept it for minutes. */
const EXIT_AFTER_ERROR_MS = 20_000;

async function failsAndExits(args: string[], env: Record<string, string>, message: RegExp): Promise<void> {
  const proc = startCli(args, { env, timeoutMs: 120_000 });
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (message.test(proc.stderr())) {
        clearInterval(check);
        resolve();
      }
    }, 50);
    proc.result.then(() => {
      clearInterval(check);
      resolve();
    }, reject);
  });
  const printedAt = Date.now();
  const result = await Promise.race([
    proc.result,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${EXIT_AFTER_ERROR_MS} ms after printing: ${proc.stderr()}`)), EXIT_AFTER_ERROR_MS)),
  ]).catch((err: unknown) => {
    proc.child.kill('SIGKILL');
    throw err;
  });
  assert.equal(result.code, 1, describeResult(result));
  assert.match(result.stderr, message);
  assert.ok(Date.now() - printedAt < EXIT_AFTER_ERROR_MS);
}

for (const backend of testBackends()) {
  describe(`a start that cannot succeed exits [${backend}]`, { skip: await skipReason(backend) }, () => {
    let home: string;
    let env: Record<string, string>;
    let schema: string | undefined;

    before(async () => {
      assertCliBuilt();
      home = await mkdtemp(join(tmpdir(), 'supervisor-startup-'));
      const extra: Record<string, string> = { SUPERVISOR_PORT: '0' };
      if (backend === 'postgres') {
        schema = `t_start_${process.pid}_${randomBytes(3).toString('hex')}`;
        const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`CREATE SCHEMA ${schema}`);
        await admin.end();
        extra.DATABASE_URL = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      }
      env = cliEnv(home, extra);
      // A first start makes the master key and the keyring.
      const first = await runCli(['secrets', 'list', '--json'], { env, timeoutMs: 120_000 });
      assert.equal(first.code, 0, describeResult(first));
    });
    after(async () => {
      await rm(home, { recursive: true, force: true });
      if (schema) {
        const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
        await admin.end();
      }
    });

    test('a wrong SUPERVISOR_MASTER_KEY: the daemon and the CLI name the key they need and exit 1', async () => {
      const wrong = { ...env, SUPERVISOR_MASTER_KEY: otherKey() };
      await failsAndExits(['daemon'], wrong, /needs master key [0-9a-f]{16}/);
      await failsAndExits(['secrets', 'list'], wrong, /needs master key [0-9a-f]{16}/);
    });

    test('a master key written by hand in config.yaml: refused as set_setting refuses it, naming the file and where the key goes instead, exit 1', async () => {
      const file = join(home, 'config.yaml');
      await writeFile(file, 'masterKey: abc\n');
      try {
        await failsAndExits(['secrets', 'list'], env, /config file .*config\.yaml sets masterKey: masterKey is the key that opens every secret, so it is not a config-file setting: set SUPERVISOR_MASTER_KEY/);
        await failsAndExits(['daemon'], env, /sets masterKey: .*not a config-file setting/);
      } finally {
        await rm(file);
      }
    });

    test('a master.key other users can read: refused, exit 1', async () => {
      const { masterKey } = dataDirFiles(home);
      await chmod(masterKey, 0o644);
      try {
        await failsAndExits(['daemon'], env, /master\.key is readable by other users \(mode 644\); run `chmod 600/);
      } finally {
        await chmod(masterKey, 0o600);
      }
    });

    test('after all that, a good start still works (nothing was left locked or half-written)', async () => {
      const again = await runCli(['secrets', 'list', '--json'], { env, timeoutMs: 120_000 });
      assert.equal(again.code, 0, describeResult(again));
    });
  });
}


test('a data dir whose key comes from SUPERVISOR_MASTER_KEY, opened without it: refused, and no stray key file is left there', async () => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-envkey-'));
  try {
    const withKey = cliEnv(home, { SUPERVISOR_PORT: '0', SUPERVISOR_MASTER_KEY: otherKey() });
    const first = await runCli(['secrets', 'list', '--json'], { env: withKey, timeoutMs: 120_000 });
    assert.equal(first.code, 0, describeResult(first));
    const keyFiles = () => [...readdirSync(home).filter((f) => f.startsWith('master.key')), ...(existsSync(join(home, 'keys')) ? readdirSync(join(home, 'keys')) : [])];
    assert.deepEqual(keyFiles(), []);
    await failsAndExits(['secrets', 'list'], cliEnv(home, { SUPERVISOR_PORT: '0' }), /needs master key [0-9a-f]{16} \(wraps data key 1\), which is not in .*\(this process has no key file\)/);
    assert.deepEqual(keyFiles(), [], 'the refused command wrote no key of its own');
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
