// cloudflare_verify through the operation catalog against the fake Cloudflare API: which
// permissions the token has (from its own policies when it may read them, else by harmless
// probes), what is missing, and the refusals for a bad or absent token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminPrincipal } from '../../src/core/principal.js';
import { SupervisorError } from '../../src/core/errors.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { capturedLogLines } from '../helpers/services.js';
import type { Permission } from '../fakes/cloudflare/index.js';
import { ACCOUNT, ALL_PERMISSIONS, openCloudflareFixture, refusalRecorder, TOKEN, type CloudflareFixture } from './fixture.js';

const admin = adminPrincipal('test-admin');

interface Report {
  ok: boolean;
  token: { id: string; status: string; owner: 'user' | 'account' };
  zones: string[];
  method: 'token_policies' | 'probes';
  permissions: Record<string, string>;
  missing: string[];
}

/** Tokens this file hands to the service; none may show up in an error or a log line. */
const tokensUsed = new Set<string>([TOKEN]);
const errorsSeen: SupervisorError[] = [];

const refused = refusalRecorder(errorsSeen);

const verify = async (f: CloudflareFixture) => (await f.invoke('verify_cloudflare', {})) as unknown as Report;

/** Stores another token and lets the token cache expire, as a rotation in production would. */
async function useToken(f: CloudflareFixture, permissions: Permission[] | null, label: string, account?: string): Promise<string> {
  const value = `cf-${label}-${'x'.repeat(24)}`;
  tokensUsed.add(value);
  if (permissions) f.fake.addToken(value, permissions, { account });
  await f.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value });
  f.services.clock.advance(60_000);
  return value;
}

const nonGet = (f: CloudflareFixture) => f.fake.calls.filter((c) => c.method !== 'GET');

for (const backend of testBackends()) {
  describe(`cloudflare_verify, local tunnel (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend);
    });
    after(() => f?.close());

    test('a token with every permission it needs → ok, found out by probes that change nothing', async () => {
      f.fake.resetCalls();
      const report = await verify(f);
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(report.method, 'probes', 'the token cannot read its own policies');
      assert.deepEqual(report.missing, []);
      assert.equal(report.token.status, 'active');
      assert.deepEqual([...report.zones].sort(), ['dev.example.com', 'example.com']);
      assert.deepEqual(report.permissions, { zoneRead: 'ok', dnsRead: 'ok', dnsEdit: 'ok', tunnelRead: 'not_needed', tunnelEdit: 'not_needed' });
      // The write probe is refused as invalid: nothing was created.
      assert.ok(nonGet(f).length > 0 && nonGet(f).every((c) => c.status >= 400), JSON.stringify(nonGet(f)));
      assert.deepEqual([...f.fake.records(f.zones.root.id), ...f.fake.records(f.zones.dev.id)], []);
    });

    test('with API Tokens Read the report comes from the token policies, without probing', async () => {
      await useToken(f, [...ALL_PERMISSIONS, 'tokens:read'], 'policies');
      f.fake.resetCalls();
      const report = await verify(f);
      assert.equal(report.method, 'token_policies');
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.deepEqual(report.missing, []);
      assert.deepEqual(nonGet(f), [], 'no probe writes');
    });

    test('a token without DNS edit: missing lists "DNS: Edit", by probes and by policies', async () => {
      await useToken(f, ['zone:read', 'dns:read'], 'dnsread');
      const probed = await verify(f);
      assert.equal(probed.method, 'probes');
      assert.equal(probed.ok, false);
      assert.deepEqual(probed.missing, ['DNS: Edit']);
      assert.equal(probed.permissions.dnsEdit, 'missing');
      assert.equal(probed.permissions.dnsRead, 'ok');

      await useToken(f, ['zone:read', 'dns:read', 'tokens:read'], 'dnsread-policies');
      const read = await verify(f);
      assert.equal(read.method, 'token_policies');
      assert.deepEqual(read.missing, ['DNS: Edit']);

      await useToken(f, ['zone:read'], 'zoneonly');
      const bare = await verify(f);
      assert.deepEqual(bare.missing, ['DNS: Read', 'DNS: Edit']);
    });

    test('a token that cannot read zones: Zone Read is reported missing', async () => {
      await useToken(f, ['dns:edit'], 'nozones');
      const report = await verify(f);
      assert.equal(report.ok, false);
      assert.equal(report.permissions.zoneRead, 'missing', JSON.stringify(report));
      assert.ok(report.missing.includes('Zone: Read'), JSON.stringify(report.missing));
    });

    test('an invalid token → not_configured (the stored token is wrong, not the caller\'s: no 401), and the message does not carry it', async () => {
      const value = await useToken(f, null, 'unknown');
      const err = await refused(f.invoke('verify_cloudflare', {}), 'not_configured', /Invalid API Token/);
      assert.ok(!err.message.includes(value));
      assert.doesNotMatch(err.message, /account API token/, 'the zones refused it as invalid too: no account to look for');
      assert.doesNotMatch(err.message, /cloudflare verify|verify_cloudflare/, 'verify does not tell its caller to run verify');
    });

    test("an account API token, refused by the user's verify endpoint, is verified at its zones' account: by probes, and by its policies", async () => {
      await useToken(f, ALL_PERMISSIONS, 'account', ACCOUNT);
      const probed = await verify(f);
      assert.equal(probed.ok, true, JSON.stringify(probed));
      assert.deepEqual([probed.token.owner, probed.method], ['account', 'probes']);
      await useToken(f, [...ALL_PERMISSIONS, 'tokens:read'], 'accountpolicies', ACCOUNT);
      const read = await verify(f);
      assert.equal(read.ok, true, JSON.stringify(read));
      assert.deepEqual([read.token.owner, read.method], ['account', 'token_policies']);
    });

    test('an account API token that cannot list zones needs cloudflareAccountId, and says so; with it, the report', async () => {
      await useToken(f, ['dns:edit'], 'accountnozones', ACCOUNT);
      await refused(f.invoke('verify_cloudflare', {}), 'not_configured', /account API token, set cloudflareAccountId/);
      await f.invoke('set_setting', { name: 'cloudflareAccountId', value: ACCOUNT });
      try {
        const report = await verify(f);
        assert.equal(report.token.owner, 'account');
        assert.equal(report.permissions.zoneRead, 'missing', JSON.stringify(report));
      } finally {
        await f.invoke('set_setting', { name: 'cloudflareAccountId', unset: true });
      }
    });

    test('a token just stored is the one the next call uses, with no time passing', async () => {
      const good = await useToken(f, ALL_PERMISSIONS, 'good');
      assert.equal((await verify(f)).ok, true);
      const wrong = `cf-wrong-${'x'.repeat(24)}`;
      tokensUsed.add(wrong);
      await f.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: wrong });
      await refused(f.invoke('verify_cloudflare', {}), 'not_configured', /Invalid API Token/);
      await f.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: good });
      assert.equal((await verify(f)).ok, true, 'back to the good token at once');
    });

    test('neither token appears in an error or a log line', () => {
      assert.ok(errorsSeen.length > 0);
      const texts = [...errorsSeen.map((e) => JSON.stringify({ message: e.message, details: e.details })), ...capturedLogLines];
      for (const token of tokensUsed) assert.deepEqual(texts.filter((t) => t.includes(token)), [], `token ${token.slice(0, 12)}… leaked`);
    });
  });

  describe(`cloudflare_verify, remote tunnel (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { mode: 'remote', config: null, permissions: ['zone:read', 'dns:edit', 'tunnel:read'] });
    });
    after(() => f?.close());

    test('a token that can read but not edit the tunnel: missing lists the tunnel edit permission; the probe changes nothing', async () => {
      const report = await verify(f);
      assert.equal(report.ok, false);
      assert.deepEqual(report.missing, ['Account: Cloudflare Tunnel: Edit']);
      assert.equal(report.permissions.tunnelRead, 'ok');
      assert.equal(report.permissions.tunnelEdit, 'missing');
      assert.equal(f.fake.tunnelConfig(ACCOUNT, f.tunnelId), undefined);
    });

    test('with tunnel edit the remote report is ok, and the probe PUT was refused as invalid', async () => {
      await useToken(f, ALL_PERMISSIONS, 'remote-all');
      f.fake.resetCalls();
      const report = await verify(f);
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(report.permissions.tunnelEdit, 'ok');
      const puts = f.fake.calls.filter((c) => c.method === 'PUT' && c.path.endsWith('/configurations'));
      assert.deepEqual(puts.map((c) => c.status), [400]);
      assert.equal(f.fake.tunnelConfig(ACCOUNT, f.tunnelId), undefined, 'the tunnel configuration was not touched');
    });
  });

  describe(`cloudflare_verify, remote mode with a locally managed tunnel (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { mode: 'remote', config: null, permissions: ALL_PERMISSIONS, tunnelSource: 'local' });
    });
    after(() => f?.close());

    test('every permission is there, yet the report is not ok: the tunnel is managed locally, which a sync in remote mode refuses', async () => {
      const report = await verify(f);
      assert.equal(report.ok, false);
      assert.equal(report.permissions.tunnelEdit, 'ok');
      assert.equal(report.missing.length, 1, JSON.stringify(report.missing));
      assert.match(report.missing[0]!, new RegExp(`^a remotely managed tunnel: tunnel ${f.tunnelId} is managed locally`));
      assert.match(report.missing[0]!, /cloudflareTunnelMode local/);
      // The sync says the same.
      await refused(f.invoke('sync_tunnel', {}), 'not_configured', /is managed locally/);
    });
  });

  describe(`cloudflare_verify with a configured zone the token cannot see (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { env: { SUPERVISOR_CLOUDFLARE_ZONES: 'example.com,nosuch.org,gone.net' } });
    });
    after(() => f?.close());

    test('the zones it can see are shown, and every one it cannot is in missing', async () => {
      const report = await verify(f);
      assert.equal(report.ok, false);
      assert.deepEqual((report as unknown as { zones: string[] }).zones, ['example.com']);
      assert.ok(report.missing.some((m) => /zones nosuch\.org, gone\.net \(SUPERVISOR_CLOUDFLARE_ZONES\) are not visible/.test(m)), JSON.stringify(report.missing));
    });
  });

  describe(`cloudflare_verify without a stored token (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { storedToken: null });
    });
    after(() => f?.close());

    test('not_configured saying how to store it, and no API call', async () => {
      f.fake.resetCalls();
      const err = await refused(f.invoke('verify_cloudflare', {}), 'not_configured', /meta\/cloudflare\/api_token/);
      assert.match(err.message, /supervisor secrets set meta\/cloudflare\/api_token/);
      assert.deepEqual(f.fake.calls, []);
      // The DNS operations say the same.
      await refused(f.invoke('create_cname', { hostname: 'x.example.com', target: 'origin.example.net' }), 'not_configured', /meta\/cloudflare\/api_token/);
    });
  });
}
