/**
 * Outgrowing the embedded database: `supervisor storage copy --to postgres://…`
 * moves everything (every domain's tables) into an empty PostgreSQL database and
 * switches the config file to it; `--from` moves it back into a fresh data dir.
 * After PGlite → PostgreSQL → PGlite every table holds what it held, and every
 * secret decrypts. A target that holds rows is refused unless --force.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse } from 'yaml';
import { DOMAINS, loadConfig, openApp } from '../../src/app.js';
import { openPostgres } from '../../src/core/db-postgres.js';
import { migrate } from '../../src/core/migrate.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { ensureDataDir, removeDaemonInfo, writeDaemonInfo } from '../../src/core/datadir.js';
import { createLogger } from '../../src/core/log.js';
import { openDatabase } from '../../src/core/open-db.js';
import { userTables } from '../../src/core/db-copy.js';
import type { Queryable } from '../../src/core/db.js';
import { skipReason, TEST_DATABASE_URL } from '../helpers/db.js';
import { assertCliBuilt, cliEnv, describeResult, parseJson, runCli } from './run-cli.js';

const admin = adminPrincipal('storage-test');

/** Every table's rows, as JSON text sorted, table by table: what "identical contents" means. */
async function contents(q: Queryable): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of await userTables(q)) {
    const { rows } = await q.query<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM "${table}" t`);
    out[table] = rows.map((r) => r.j).sort();
  }
  return out;
}

async function withEmbedded<T>(home: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadConfig({ SUPERVISOR_HOME: home }));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

describe('supervisor storage copy', async () => {
  const reason = await skipReason('postgres');
  let first: string;
  let second: string;
  let schema: string;
  let url: string;
  let admin_: pg.Client;

  before(async () => {
    if (reason) return;
    assertCliBuilt();
    first = await mkdtemp(join(tmpdir(), 'supervisor-copy-a-'));
    second = await mkdtemp(join(tmpdir(), 'supervisor-copy-b-'));
    schema = `copy_${randomBytes(4).toString('hex')}`;
    admin_ = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin_.connect();
    await admin_.query(`CREATE SCHEMA ${schema}`);
    const u = new URL(TEST_DATABASE_URL);
    u.searchParams.set('options', `-c search_path=${schema}`);
    url = u.toString();

    // Data from every domain, in the first data dir's embedded database.
    const config = loadConfig({ SUPERVISOR_HOME: first });
    await ensureDataDir(first);
    const app = await openApp({ config, db: await openDatabase(config), log: createLogger('warn') });
    try {
      await app.projects.add('test', { name: 'shop', description: 'The shop', directory: '/srv/shop' });
      await app.ports.allocate(admin, { project: 'shop', service: 'api', hostname: 'api.shop.example.com' });
      await app.secrets.set(admin, { path: 'project/shop/db', value: 'postgres://one', tags: ['db'] });
      await app.secrets.set(admin, { path: 'project/shop/db', value: 'postgres://two' });
      await app.secrets.set(admin, { path: 'project/shop/gone', value: 'bye' });
      await app.secrets.delete(admin, { path: 'project/shop/gone' });
      await app.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: 'cf-token' });
      await app.secrets.get(admin, { path: 'project/shop/db' });
      await app.secrets.grant('storage-test', { project: 'shop', prefix: 'meta/cloudflare/', access: 'read' });
      await app.auth.tokens.create({ name: 'shop-agent', project: 'shop' });
      const now = new Date('2026-11-23T10:00:00Z');
      await app.db.query(`INSERT INTO dns_records VALUES ('z1', 'r1', 'example.com', 'api.shop.example.com', 'CNAME', 't.cfargotunnel.com', true, 1, 'managed-by:supervisor', true, $1)`, [now]);
      await app.db.query(`INSERT INTO tunnel_routes VALUES ('x.example.com', '', 'http://localhost:1', true, 'manual', $1, 'test')`, [now]);
      await app.db.query(`INSERT INTO tunnel_owned_rules VALUES ('t', 'x.example.com', '')`);
      await app.db.query(`INSERT INTO cloudflare_changes (at, actor, operation, action, target, outcome, detail) VALUES ($1, 'test', 'sync_tunnel', 'create', 'x.example.com', 'ok', '{"n":1}')`, [now]);
      await app.db.query(`INSERT INTO instruction_projects VALUES ('shop', true, $1)`, [now]);
      // Knowledge chunks have a generated search column, which the target computes itself.
      await app.knowledge.add(admin, { project: 'shop', title: 'Checkout', text: 'The checkout retries a declined card once.' });
    } finally {
      await app.close();
    }
  });
  after(async () => {
    if (reason) return;
    await admin_.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await admin_.end();
    await rm(first, { recursive: true, force: true });
    await rm(second, { recursive: true, force: true });
  });

  test('PGlite → PostgreSQL → PGlite: identical contents table by table, every secret decrypts', { skip: reason }, async () => {
    const original = await withEmbedded(first, contents);
    for (const table of ['projects', 'port_allocations', 'secrets', 'secret_versions', 'secret_keys', 'secret_grants', 'tokens', 'audit_log', 'dns_records', 'tunnel_routes', 'tunnel_owned_rules', 'cloudflare_changes', 'instruction_projects', 'knowledge_docs', 'knowledge_chunks']) {
      assert.ok((original[table] ?? []).length > 0, `the seed left ${table} empty`);
    }

    const there = await runCli(['storage', 'copy', '--to', url, '--json'], { env: cliEnv(first), timeoutMs: 120_000 });
    assert.equal(there.code, 0, describeResult(there));
    const answer = parseJson(there) as { tables: Array<{ table: string; rows: number }>; secretsDecrypted: number; databaseUrl: string; to: string };
    assert.equal(answer.databaseUrl, 'set');
    assert.equal(answer.secretsDecrypted, 3);
    assert.equal(answer.tables.find((t) => t.table === 'secret_versions')?.rows, original.secret_versions!.length);
    assert.deepEqual(parse(await readFile(join(first, 'config.yaml'), 'utf8')), { databaseUrl: url });

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const onServer = await contents({ query: async (sql: string) => ({ rows: (await client.query(sql)).rows, rowCount: 0 }) } as unknown as Queryable);
      assert.deepEqual(onServer, original, 'PostgreSQL holds what the embedded database held');
    } finally {
      await client.end();
    }

    // The data dir now uses PostgreSQL: the CLI reads the copied secrets from it.
    const read = await runCli(['secrets', 'get', 'project/shop/db', '-f', 'value'], { env: cliEnv(first) });
    assert.equal(read.code, 0, describeResult(read));
    assert.equal(read.stdout, 'postgres://two');
    const found = await runCli(['knowledge', 'search', 'declined', '--json'], { env: cliEnv(first) });
    assert.equal(found.code, 0, describeResult(found));
    assert.equal((parseJson(found) as { results: unknown[] }).results.length, 1, 'the copied note is found by search on PostgreSQL');
    // It remembers so: a command without the URL (here the config file's, hidden) would not open an empty embedded database.
    assert.equal(existsSync(join(first, 'postgres.json')), true);

    // Back into a fresh data dir that has the same master keys.
    await cp(join(first, 'master.key'), join(second, 'master.key'));
    await cp(join(first, 'keys'), join(second, 'keys'), { recursive: true });
    const serverNow = await (async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        return await contents({ query: async (sql: string) => ({ rows: (await c.query(sql)).rows, rowCount: 0 }) } as unknown as Queryable);
      } finally {
        await c.end();
      }
    })();
    const back = await runCli(['storage', 'copy', '--from', url, '--json'], { env: cliEnv(second), timeoutMs: 120_000 });
    assert.equal(back.code, 0, describeResult(back));
    assert.equal((parseJson(back) as { databaseUrl: string }).databaseUrl, 'unset');
    assert.deepEqual(await withEmbedded(second, contents), serverNow, 'the embedded database holds what PostgreSQL held');
    const again = await runCli(['secrets', 'get', 'meta/cloudflare/api_token', '-f', 'value'], { env: cliEnv(second) });
    assert.equal(again.stdout, 'cf-token');
  });

  test('a target that holds rows is refused unless --force; the daemon must be stopped', { skip: reason }, async () => {
    const refused = await runCli(['storage', 'copy', '--to', url, '--no-switch'], { env: cliEnv(second), timeoutMs: 120_000 });
    assert.equal(refused.code, 1, describeResult(refused));
    assert.match(refused.stderr, /^supervisor: conflict: the target database is not empty \(.*secrets: 3.*\); copy into an empty database, or add --force/);
    const forced = await runCli(['storage', 'copy', '--to', url, '--no-switch', '--force', '--json'], { env: cliEnv(second), timeoutMs: 120_000 });
    assert.equal(forced.code, 0, describeResult(forced));
    assert.equal((parseJson(forced) as { databaseUrl: string }).databaseUrl, 'unchanged');
    // A running daemon holds the database (here: a daemon file naming this live process).
    await writeDaemonInfo(second, { pid: process.pid, url: 'http://127.0.0.1:9', token: 'x' });
    const running = await runCli(['storage', 'copy', '--to', url, '--force'], { env: cliEnv(second) });
    await removeDaemonInfo(second);
    assert.equal(running.code, 1, describeResult(running));
    assert.match(running.stderr, /^supervisor: locked: the daemon is running and holds the database; stop it first \(`supervisor daemon stop`\)/);
    // A target that holds only what its migrations wrote (a copy killed after migrating it) is empty: no --force needed.
    const other = `copy_${randomBytes(4).toString('hex')}`;
    await admin_.query(`CREATE SCHEMA ${other}`);
    try {
      const migratedOnly = await openPostgres({ connectionString: TEST_DATABASE_URL, schema: other, maxConnections: 2 });
      await migrate(migratedOnly, DOMAINS);
      await migratedOnly.close();
      const otherUrl = new URL(TEST_DATABASE_URL);
      otherUrl.searchParams.set('options', `-c search_path=${other}`);
      const retried = await runCli(['storage', 'copy', '--to', otherUrl.toString(), '--no-switch', '--json'], { env: cliEnv(second), timeoutMs: 120_000 });
      assert.equal(retried.code, 0, describeResult(retried));
    } finally {
      await admin_.query(`DROP SCHEMA ${other} CASCADE`);
    }
    const usage = await runCli(['storage', 'copy'], { env: cliEnv(second) });
    assert.equal(usage.code, 2, describeResult(usage));
    assert.match(usage.stderr, /give exactly one of --to <postgres-url> .* or --from <postgres-url>/);
  });
});

test('a PostgreSQL URL that cannot be reached is named by its flag, not by DATABASE_URL', async () => {
  assertCliBuilt();
  const home = await mkdtemp(join(tmpdir(), 'supervisor-storage-unreachable-'));
  try {
    const r = await runCli(['storage', 'copy', '--from', 'postgres://nobody@127.0.0.1:1/nothing'], { env: cliEnv(home), timeoutMs: 120_000 });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /^supervisor: unavailable: cannot connect to PostgreSQL: .*; check the URL given to --from\n$/);
    assert.doesNotMatch(r.stderr, /DATABASE_URL/);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('--to from a data dir with no embedded database (a mistyped SUPERVISOR_HOME) is refused before anything is made or copied', async () => {
  assertCliBuilt();
  const parent = await mkdtemp(join(tmpdir(), 'supervisor-storage-typo-'));
  const home = join(parent, 'not-the-data-dir');
  try {
    const r = await runCli(['storage', 'copy', '--to', 'postgres://nobody@127.0.0.1:1/nothing', '--force'], { env: cliEnv(home), timeoutMs: 120_000 });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /^supervisor: not_found: there is no embedded database to copy in .*not-the-data-dir \(no .*db\); is SUPERVISOR_HOME the daemon's data dir\?\n$/);
    assert.equal(existsSync(home), false, 'no data dir was made');
  } finally {
    await rm(parent, { recursive: true, force: true });
  }
});
