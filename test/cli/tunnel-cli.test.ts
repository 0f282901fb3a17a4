// The tunnel commands from a shell: `tunnel sync --plan` prints the diff and changes nothing;
// `tunnel sync` writes config.yml. The CLI opens the data dir itself (no daemon) and talks
// to the fake Cloudflare API.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { startFakeCloudflare, type FakeCloudflare, type Zone } from '../fakes/cloudflare/index.js';
import { assertCliBuilt, cliEnv, describeResult, runCli } from './run-cli.js';

const TOKEN = 'cli-cloudflare-token-00000000000000000000';

describe('supervisor tunnel sync from the CLI', () => {
  let fake: FakeCloudflare;
  let home: string;
  let config: string;
  let env: Record<string, string>;
  const tunnelId = randomUUID();
  let zone: Zone;

  const cli = async (args: string[], stdin?: string) => {
    const r = await runCli(args, { env, stdin });
    assert.equal(r.code, 0, describeResult(r));
    return r.stdout;
  };

  before(async () => {
    assertCliBuilt();
    fake = await startFakeCloudflare();
    fake.addToken(TOKEN, ['zone:read', 'dns:edit']);
    zone = fake.addZone('example.com');
    home = await mkdtemp(join(tmpdir(), 'supervisor-tunnel-cli-'));
    config = join(home, 'cloudflared.yml');
    await writeFile(config, `tunnel: ${tunnelId}\ncredentials-file: /etc/cloudflared/creds.json\ningress:\n  - service: http_status:404\n`);
    env = cliEnv(home, { SUPERVISOR_CLOUDFLARE_API_URL: fake.url, SUPERVISOR_CLOUDFLARED_CONFIG: config, SUPERVISOR_CLOUDFLARED_RESTART: 'true' });
    await cli(['secrets', 'set', 'meta/cloudflare/api_token'], TOKEN);
    await cli(['project', 'add', 'shop', '--range', '24000-24099']);
    await cli(['port', 'allocate', 'shop', 'api', '--hostname', 'api.shop.example.com']);
  });
  after(async () => {
    await fake?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  test('--plan prints the routes and records it would add, and writes nothing', async () => {
    const before = await readFile(config, 'utf8');
    const out = await cli(['tunnel', 'sync', '--plan']);
    // Nested lists are tables under their key.
    assert.match(out, /^dryRun: +true$/m);
    assert.match(out, /^ {4}HOSTNAME +PATH +SERVICE$/m);
    assert.match(out, /^ {4}api\.shop\.example\.com +- +http:\/\/localhost:24000$/m);
    assert.match(out, new RegExp(`CNAME +api\\.shop\\.example\\.com +${tunnelId}\\.cfargotunnel\\.com`));
    assert.equal(await readFile(config, 'utf8'), before);
    assert.equal(fake.calls.filter((c) => c.method !== 'GET').length, 0);
  });

  test('without --plan it writes the ingress and the CNAME; the answer says so', async () => {
    const answer = JSON.parse(await cli(['tunnel', 'sync', '--json'])) as { written: boolean; dns: { plan: { create: unknown[] } } };
    assert.equal(answer.written, true);
    assert.equal(answer.dns.plan.create.length, 1);
    const doc = parse(await readFile(config, 'utf8')) as { ingress: Array<{ hostname?: string; service: string }>; 'credentials-file': string };
    assert.deepEqual(doc.ingress, [{ hostname: 'api.shop.example.com', service: 'http://localhost:24000' }, { service: 'http_status:404' }]);
    assert.equal(doc['credentials-file'], '/etc/cloudflared/creds.json');
  });

  test('a hostname whose record is not ours is a conflict: the rest is synced, ok is false and the exit code 1, for cron', async () => {
    fake.addRecord(zone.id, { type: 'CNAME', name: 'www.shop.example.com', content: 'elsewhere.example.net', proxied: false });
    await cli(['port', 'allocate', 'shop', 'www', '--hostname', 'www.shop.example.com']);
    const r = await runCli(['tunnel', 'sync', '--json'], { env });
    assert.equal(r.code, 1, describeResult(r));
    const answer = JSON.parse(r.stdout) as { ok: boolean; written: boolean; dns: { plan: { conflicts: Array<{ name: string }> } } };
    assert.deepEqual([answer.ok, answer.written], [false, true]);
    assert.deepEqual(answer.dns.plan.conflicts.map((c) => c.name), ['www.shop.example.com']);
    // tunnel add and tunnel remove sync the same way, and exit the same way while a route is not in place.
    const blog = JSON.parse(await cli(['port', 'allocate', 'shop', 'blog', '--json'])) as { port: number };
    const added = await runCli(['tunnel', 'add', 'blog.shop.example.com', '--port', String(blog.port), '--json'], { env });
    assert.equal(added.code, 1, describeResult(added));
    assert.equal((JSON.parse(added.stdout) as { ok: boolean }).ok, false);
    const removed = await runCli(['tunnel', 'remove', 'blog.shop.example.com', '--json'], { env });
    assert.equal(removed.code, 1, describeResult(removed));
    assert.deepEqual(await cli(['port', 'allocate', 'shop', 'www', '--hostname', 'null', '--json']).then((out) => (JSON.parse(out) as { hostname: unknown }).hostname), null);
    assert.equal((await runCli(['tunnel', 'sync'], { env })).code, 0, 'all in place again');
  });
  test('cloudflare verify exits 1 when a permission is missing, after printing what to add (for CI and cron)', async () => {
    assert.match(await cli(['cloudflare', 'verify', '-f', 'ok']), /^true/);
    const weak = 'cli-cloudflare-weak-token-000000000000000000';
    fake.addToken(weak, ['zone:read']);
    await cli(['secrets', 'set', 'meta/cloudflare/api_token'], weak);
    try {
      const r = await runCli(['cloudflare', 'verify', '--json'], { env });
      assert.equal(r.code, 1, describeResult(r));
      const answer = JSON.parse(r.stdout) as { ok: boolean; missing: string[] };
      assert.equal(answer.ok, false);
      assert.ok(answer.missing.length > 0, r.stdout);
    } finally {
      await cli(['secrets', 'set', 'meta/cloudflare/api_token'], TOKEN);
    }
  });
});
