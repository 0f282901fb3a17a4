// Missing Cloudflare configuration through the operation catalog: one not_configured answer
// lists everything missing (token, tunnel id, zones) with its command and whether a restart
// is needed; dry runs work without a token where the plan is local and say what they did not
// check; a token Cloudflare refuses, or one that cannot even be sent, fails at once.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { adminPrincipal } from '../../src/core/principal.js';
import type { SupervisorError } from '../../src/core/errors.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { INITIAL_CONFIG, openCloudflareFixture, refusalRecorder, TOKEN, type CloudflareFixture } from './fixture.js';

const admin = adminPrincipal('test-admin');
const errorsSeen: SupervisorError[] = [];
const refused = refusalRecorder(errorsSeen);

interface Missing {
  what: string;
  fix: string;
  restart: boolean;
}
const missingOf = (err: SupervisorError) => (err.details.missing as Missing[]).map((m) => m.what);

for (const backend of testBackends()) {
  describe(`nothing configured: no token, no tunnel id, no config.yml (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { storedToken: null, config: null, env: { SUPERVISOR_CLOUDFLARE_TUNNEL_ID: '' } });
    });
    after(() => f?.close());

    test('looking for a token that was never stored is not a failed read of it in the audit log', async () => {
      const reads = async () => (await f.services.db.query("SELECT count(*)::int AS n FROM audit_log WHERE action = 'secret.read' AND actor = 'system:cloudflare'")).rows[0] as { n: number };
      const before = (await reads()).n;
      for (let i = 0; i < 3; i++) await refused(f.invoke('list_dns_records', {}), 'not_configured');
      assert.equal((await reads()).n, before);
    });

    test('add_tunnel_route names the token and the tunnel id in one answer, each with its command; no API call', async () => {
      f.fake.resetCalls();
      const err = await refused(f.invoke('add_tunnel_route', { hostname: 'api.consilio.example.com', port: 4001 }), 'not_configured');
      assert.deepEqual(missingOf(err), ['api_token', 'tunnel_id']);
      assert.match(err.message, /2 things are missing/);
      assert.match(err.message, /supervisor secrets set meta\/cloudflare\/api_token/);
      assert.match(err.message, /tunnel: <uuid>/);
      assert.match(err.message, /supervisor config set cloudflareTunnelId <uuid>/);
      assert.equal(err.details.restartNeeded, false, 'both can be fixed without a restart');
      assert.equal(err.httpStatus, 503);
      assert.deepEqual(f.fake.calls, []);
    });

    test('the DNS operations and verify need only the token, and say so', async () => {
      for (const [op, input] of [
        ['create_cname', { hostname: 'x.example.com', target: 'origin.example.net' }],
        ['list_dns_records', {}],
        ['verify_cloudflare', {}],
      ] as const) {
        const err = await refused(f.invoke(op, input), 'not_configured', /meta\/cloudflare\/api_token/);
        assert.deepEqual(missingOf(err), ['api_token'], op);
      }
      assert.deepEqual(f.fake.calls, []);
    });

    test('a DNS dry run without a token shows the wanted record and says the existing ones were not checked', async () => {
      const answer = await f.invoke('create_cname', { hostname: 'Pre.Example.com', target: 'origin.example.net', dryRun: true, comment: 'planned' });
      const dns = answer as unknown as { applied: boolean; notChecked: string[]; plan: { create: Array<{ name: string; content: string; comment: string }> } };
      assert.equal(dns.applied, false);
      assert.deepEqual(dns.plan.create.map((r) => [r.name, r.content, r.comment]), [['pre.example.com', 'origin.example.net', 'managed-by:supervisor planned']]);
      assert.match(dns.notChecked.join(' '), /existing DNS records \(no API token/);
      assert.deepEqual(f.fake.calls, []);
    });
  });

  describe(`local mode with a tunnel id, and no config.yml at cloudflaredConfig (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { config: null });
    });
    after(() => f?.close());

    test('a sync is not_configured naming the file, and creates no file and restarts nothing, dry run or not', async () => {
      for (const dryRun of [true, false]) {
        const err = await refused(f.invoke('sync_tunnel', { dryRun }), 'not_configured', /config\.yml does not exist: point cloudflaredConfig at the config\.yml cloudflared runs from/);
        assert.deepEqual(missingOf(err), ['config_file']);
      }
      await refused(f.invoke('add_tunnel_route', { hostname: 'nofile.example.com', port: 4001 }), 'not_configured', /does not exist/);
      assert.equal(existsSync(f.configPath), false);
      assert.equal(await f.restarts(), 0);
    });
  });

  describe(`no token, a tunnel in config.yml (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { storedToken: null, env: { SUPERVISOR_CLOUDFLARE_TUNNEL_ID: '' } });
    });
    after(() => f?.close());

    test('add_tunnel_route dryRun plans the ingress from config.yml, writes nothing, calls nothing, and says DNS was not checked', async () => {
      const before = await readFile(f.configPath, 'utf8');
      const answer = (await f.invoke('add_tunnel_route', { hostname: 'api.consilio.example.com', port: 4001, dryRun: true })) as unknown as {
        tunnelId: string;
        routes: { add: Array<{ hostname: string; service: string }> };
        changed: boolean;
        written: boolean;
        dns: { notChecked: string[]; plan: { create: Array<{ name: string; content: string }> } };
      };
      assert.equal(answer.tunnelId, f.tunnelId, 'the tunnel id comes from config.yml');
      assert.deepEqual(answer.routes.add, [{ hostname: 'api.consilio.example.com', path: '', service: 'http://localhost:4001' }]);
      assert.deepEqual([answer.changed, answer.written], [true, false]);
      assert.deepEqual(answer.dns.plan.create.map((r) => [r.name, r.content]), [['api.consilio.example.com', `${f.tunnelId}.cfargotunnel.com`]]);
      assert.match(answer.dns.notChecked.join(' '), /no API token/);
      assert.equal(await readFile(f.configPath, 'utf8'), before);
      assert.deepEqual(f.fake.calls, []);
    });

    test('sync_tunnel without DNS needs no token in local mode: config.yml is written, Cloudflare is not called', async () => {
      await f.services.projects.add('test', { name: 'offline' });
      await f.services.ports.allocate(admin, { project: 'offline', service: 'web', hostname: 'web.offline.example.com' });
      f.fake.resetCalls();
      const answer = (await f.invoke('sync_tunnel', { dns: false })) as unknown as { written: boolean; ok: boolean };
      assert.deepEqual([answer.written, answer.ok], [true, true]);
      assert.match(await readFile(f.configPath, 'utf8'), /hostname: web\.offline\.example\.com/);
      assert.deepEqual(f.fake.calls, []);
      // With DNS it still needs the token.
      assert.deepEqual(missingOf(await refused(f.invoke('sync_tunnel', {}), 'not_configured')), ['api_token']);
      await f.services.ports.release(admin, { project: 'offline', service: 'web' });
      await f.invoke('sync_tunnel', { dns: false });
    });

    test('without dryRun the same call is not_configured for the token alone', async () => {
      const err = await refused(f.invoke('add_tunnel_route', { hostname: 'api.consilio.example.com', port: 4001 }), 'not_configured');
      assert.deepEqual(missingOf(err), ['api_token']);
      assert.equal(await readFile(f.configPath, 'utf8'), INITIAL_CONFIG(f.tunnelId));
    });

    test('once the token is stored, the same call works without a restart', async () => {
      await f.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: TOKEN });
      const answer = (await f.invoke('add_tunnel_route', { hostname: 'api.consilio.example.com', port: 4001 })) as unknown as { written: boolean; dns: { plan: { create: unknown[] } } };
      assert.equal(answer.written, true);
      assert.equal(answer.dns.plan.create.length, 1);
    });
  });

  describe(`no token, a tunnel in config.yml, the zones named in the settings (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { storedToken: null, env: { SUPERVISOR_CLOUDFLARE_TUNNEL_ID: '', SUPERVISOR_CLOUDFLARE_ZONES: 'example.com' } });
    });
    after(() => f?.close());

    test('a dry run refuses a route whose hostname no named zone holds, as the real call would, without calling Cloudflare', async () => {
      f.fake.resetCalls();
      await refused(f.invoke('add_tunnel_route', { hostname: 'api.elsewhere.net', port: 4001, dryRun: true }), 'invalid_input', /no managed Cloudflare zone holds api\.elsewhere\.net/);
      const inside = (await f.invoke('add_tunnel_route', { hostname: 'api.consilio.example.com', port: 4001, dryRun: true })) as unknown as { dns: { plan: { create: Array<{ name: string }> } } };
      assert.deepEqual(inside.dns.plan.create.map((r) => r.name), ['api.consilio.example.com']);
      assert.deepEqual(f.fake.calls, []);
    });

    test('a sync dry run plans no CNAME for a hostname outside the named zones, warns, and the route list shows no DNS for it', async () => {
      await f.services.projects.add('test', { name: 'outside' });
      await f.services.ports.allocate(admin, { project: 'outside', service: 'web', hostname: 'web.elsewhere.net' });
      await f.services.ports.allocate(admin, { project: 'outside', service: 'api', hostname: 'api.outside.example.com' });
      try {
        f.fake.resetCalls();
        const answer = (await f.invoke('sync_tunnel', { dryRun: true })) as unknown as { warnings: string[]; dns: { plan: { create: Array<{ name: string }> } } };
        assert.deepEqual(answer.dns.plan.create.map((r) => r.name), ['api.outside.example.com']);
        assert.match(answer.warnings.join(' '), /no managed Cloudflare zone holds web\.elsewhere\.net/);
        const routes = (await f.invoke('list_tunnel_routes', {})) as unknown as { items: Array<{ hostname: string; dnsWanted: boolean }> };
        assert.deepEqual(
          routes.items.map((r) => [r.hostname, r.dnsWanted]).sort(),
          [
            ['api.outside.example.com', true],
            ['web.elsewhere.net', false],
          ],
        );
        assert.deepEqual(f.fake.calls, []);
      } finally {
        await f.services.ports.release(admin, { project: 'outside', service: 'web' });
        await f.services.ports.release(admin, { project: 'outside', service: 'api' });
      }
    });
  });

  describe(`remote mode without a tunnel id, zones the token cannot see (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { mode: 'remote', config: null, env: { SUPERVISOR_CLOUDFLARE_TUNNEL_ID: '', SUPERVISOR_CLOUDFLARE_ZONES: 'other.org' } });
    });
    after(() => f?.close());

    test('sync_tunnel lists the tunnel id and the zone, in one answer, each fixed without a restart', async () => {
      const err = await refused(f.invoke('sync_tunnel', {}), 'not_configured');
      assert.deepEqual(missingOf(err), ['tunnel_id', 'zones']);
      assert.equal(err.details.restartNeeded, false);
      assert.match(err.message, /other\.org/);
      assert.match(err.message, /supervisor config set cloudflareTunnelId <uuid>/);
      assert.doesNotMatch(err.message, /then restart the daemon/);
    });
  });

  describe(`a token Cloudflare refuses is not retried (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { storedToken: 'cf-wrong-token-0000000000000000' });
      f.fake.addToken('cf-readonly-token-000000000000000', ['zone:read', 'dns:read']);
    });
    after(() => f?.close());

    const useToken = async (value: string) => {
      await f.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value });
      f.services.clock.advance(60_000);
      f.fake.resetCalls();
      f.waits.length = 0;
    };

    test('a wrong token: not_configured after one call, no wait, saying it is wrong and how to replace it', async () => {
      f.fake.resetCalls();
      const err = await refused(f.invoke('create_cname', { hostname: 'x.example.com', target: 'origin.example.net' }), 'not_configured', /wrong, expired or disabled/);
      assert.match(err.message, /supervisor secrets set meta\/cloudflare\/api_token/);
      assert.equal(f.fake.calls.length, 1);
      assert.deepEqual(f.waits, []);
      assert.ok(!err.message.includes('cf-wrong-token'));
    });

    test('a route added with a wrong token writes nothing: config.yml as it was, cloudflared not restarted, no route stored', async () => {
      // The zones are known from when the token worked, so the wrong one is first used on the records.
      await useToken(TOKEN);
      await f.invoke('add_tunnel_route', { hostname: 'right-token.example.com', port: 8080 });
      await useToken('cf-wrong-token-0000000000000000');
      const before = await readFile(f.configPath, 'utf8');
      const restarts = await f.restarts();
      await refused(f.invoke('add_tunnel_route', { hostname: 'wrong-token.example.com', port: 8081 }), 'not_configured', /wrong, expired or disabled/);
      assert.equal(await readFile(f.configPath, 'utf8'), before);
      assert.equal(await f.restarts(), restarts);
      const routes = (await f.invoke('list_tunnel_routes', {})) as { items: Array<{ hostname: string }> };
      assert.ok(!routes.items.some((r) => r.hostname === 'wrong-token.example.com'));
    });

    test('a token that lacks a permission: forbidden after one call, naming the permissions', async () => {
      await useToken('cf-readonly-token-000000000000000');
      const err = await refused(f.invoke('create_cname', { hostname: 'x.example.com', target: 'origin.example.net' }), 'forbidden', /lacks a permission/);
      assert.match(err.message, /DNS Edit/);
      assert.deepEqual(f.waits, []);
      assert.equal(f.fake.calls.filter((c) => c.method === 'POST').length, 1);
    });

    test('a token that may read DNS but not edit it: the refusal says the ingress was written and cloudflared restarted', async () => {
      await useToken('cf-readonly-token-000000000000000');
      const err = await refused(f.invoke('add_tunnel_route', { hostname: 'read-only.example.com', port: 8082 }), 'forbidden', /lacks a permission/);
      assert.match(err.message, /the tunnel's ingress was written and cloudflared restarted before this, so its routes are in place without their DNS records: sync again once this is fixed$/);
      assert.equal(err.details.ingressWritten, true);
      assert.match(await readFile(f.configPath, 'utf8'), /hostname: read-only\.example\.com/);
    });

    test('a token with a line break inside cannot be sent: not_configured at once, no call, no retry', async () => {
      await useToken(`${TOKEN.slice(0, 10)}\n${TOKEN.slice(10)}`);
      const err = await refused(f.invoke('create_cname', { hostname: 'x.example.com', target: 'origin.example.net' }), 'not_configured', /line break/);
      assert.ok(!err.message.includes(TOKEN.slice(10)));
      assert.deepEqual(f.fake.calls, []);
      assert.deepEqual(f.waits, []);
    });

    test('a token stored with a trailing newline (echo) works', async () => {
      await useToken(`${TOKEN}\n`);
      const answer = await f.invoke('create_cname', { hostname: 'echoed.example.com', target: 'origin.example.net' });
      assert.equal(answer.changed, true);
    });
  });
}
