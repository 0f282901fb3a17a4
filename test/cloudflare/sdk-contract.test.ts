// Contract test of the fake Cloudflare API with Cloudflare's own TypeScript SDK as the judge:
// if the SDK cannot page, create, edit, batch or read a tunnel configuration against the fake,
// or finds a field missing that it declares required, the fake has drifted from the real wire
// format. The SDK is a dev dependency only; the product keeps its small client (DESIGN.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Cloudflare from 'cloudflare';
import { startFakeCloudflare, type FakeCloudflare, type Zone } from '../fakes/cloudflare/index.js';

const TOKEN = 'sdk-contract-token';
const ACCOUNT = 'acc0000000000000000000000000sdk1';
const TUNNEL = '6ff42ae2-765d-4adf-8112-31c55c1551ef';

let fake: FakeCloudflare;
let cf: Cloudflare;
let zone: Zone;

before(async () => {
  fake = await startFakeCloudflare();
  fake.addToken(TOKEN, ['zone:read', 'dns:read', 'dns:edit', 'tunnel:read', 'tunnel:edit', 'tokens:read']);
  zone = fake.addZone('example.com', { accountId: ACCOUNT });
  for (let i = 0; i < 12; i++) fake.addZone(`zone${String(i).padStart(2, '0')}.test`, { accountId: ACCOUNT });
  fake.addTunnel(ACCOUNT, TUNNEL);
  // No retries: a refusal must reach the assertion as the fake sent it.
  cf = new Cloudflare({ apiToken: TOKEN, baseURL: fake.url, maxRetries: 0 });
});

after(() => fake.close());

/** The fields the SDK's RecordResponse declares required, with their types. */
function assertRecordShape(record: unknown): void {
  const r = record as Record<string, unknown>;
  for (const key of ['id', 'name', 'type', 'created_on', 'modified_on']) assert.equal(typeof r[key], 'string', `record.${key}`);
  assert.equal(typeof r.ttl, 'number', 'record.ttl');
  assert.equal(typeof r.proxiable, 'boolean', 'record.proxiable');
  assert.equal(typeof r.meta, 'object', 'record.meta');
  assert.ok(Array.isArray(r.tags), 'record.tags');
}

/** The SDK's APIError, with the status and Cloudflare's error codes it parsed from the envelope. */
async function sdkRefusal(call: Promise<unknown>): Promise<{ status: number | undefined; codes: number[] }> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof Cloudflare.APIError, `expected an APIError, got ${String(err)}`);
    return { status: err.status, codes: err.errors.map((e) => e.code ?? -1) };
  }
  assert.fail('the call succeeded');
}

describe('the official cloudflare SDK against the fake', () => {
  test('zones: auto-pagination walks every page of 5 and stops', async () => {
    const names: string[] = [];
    for await (const z of cf.zones.list({ per_page: 5 })) names.push(z.name);
    assert.equal(names.length, 13);
    assert.equal(new Set(names).size, 13, 'no zone twice');
    const page = await cf.zones.list({ per_page: 5, page: 3 });
    assert.deepEqual([page.result.length, page.result_info.page, page.result_info.per_page], [3, 3, 5]);
    const one = await cf.zones.get({ zone_id: zone.id });
    assert.deepEqual([one.name, one.account.id], ['example.com', ACCOUNT]);
  });

  test('dns records: create, get, edit (PATCH), update (PUT), list pages, delete', async () => {
    const created = await cf.dns.records.create({ zone_id: zone.id, type: 'CNAME', name: 'sdk', content: 'origin.example.net', proxied: true, ttl: 1, comment: 'made by the sdk', tags: ['owner:sdk'] });
    assertRecordShape(created);
    assert.deepEqual([created.name, created.content, created.proxied, created.comment, created.tags], ['sdk.example.com', 'origin.example.net', true, 'made by the sdk', ['owner:sdk']]);

    const got = await cf.dns.records.get(created.id, { zone_id: zone.id });
    assert.equal(got.id, created.id);
    const edited = await cf.dns.records.edit(created.id, { zone_id: zone.id, type: 'CNAME', name: 'sdk.example.com', ttl: 1, content: 'other.example.net' });
    assert.deepEqual([edited.content, edited.comment], ['other.example.net', 'made by the sdk'], 'PATCH keeps the fields it was not given');
    const replaced = await cf.dns.records.update(created.id, { zone_id: zone.id, type: 'CNAME', name: 'sdk.example.com', ttl: 1, content: 'third.example.net' });
    assert.deepEqual([replaced.content, replaced.comment, replaced.tags], ['third.example.net', null, []], 'PUT resets what it was not given');

    for (let i = 0; i < 7; i++) await cf.dns.records.create({ zone_id: zone.id, type: 'A', name: `page${i}`, content: `192.0.2.${i + 1}`, ttl: 1 });
    const listed: string[] = [];
    for await (const r of cf.dns.records.list({ zone_id: zone.id, per_page: 3 })) {
      assertRecordShape(r);
      listed.push(r.id);
    }
    assert.equal(listed.length, 8);
    assert.equal(new Set(listed).size, 8);
    const exact = await cf.dns.records.list({ zone_id: zone.id, name: { exact: 'page3.example.com' } });
    assert.deepEqual(exact.result.map((r) => r.content), ['192.0.2.4']);

    const deleted = await cf.dns.records.delete(created.id, { zone_id: zone.id });
    assert.equal(deleted?.id, created.id);
    assert.deepEqual(await sdkRefusal(cf.dns.records.get(created.id, { zone_id: zone.id })), { status: 404, codes: [81044] });
  });

  test('dns batch: deletes, patches, puts, posts in one call, all or nothing', async () => {
    const a = await cf.dns.records.create({ zone_id: zone.id, type: 'A', name: 'b-del', content: '198.51.100.1', ttl: 1 });
    const b = await cf.dns.records.create({ zone_id: zone.id, type: 'A', name: 'b-patch', content: '198.51.100.2', ttl: 1 });
    const c = await cf.dns.records.create({ zone_id: zone.id, type: 'A', name: 'b-put', content: '198.51.100.3', ttl: 1 });
    const result = await cf.dns.records.batch({
      zone_id: zone.id,
      deletes: [{ id: a.id }],
      patches: [{ id: b.id, type: 'A', name: 'b-patch.example.com', ttl: 1, content: '198.51.100.22' }],
      puts: [{ id: c.id, type: 'A', name: 'b-put.example.com', content: '198.51.100.33', ttl: 1 }],
      posts: [{ type: 'CNAME', name: 'b-post', content: 'origin.example.net', ttl: 1 }],
    });
    assert.deepEqual(result.deletes?.map((r) => r.id), [a.id]);
    assert.deepEqual(result.patches?.map((r) => r.content), ['198.51.100.22']);
    assert.deepEqual(result.puts?.map((r) => r.content), ['198.51.100.33']);
    assert.deepEqual(result.posts?.map((r) => r.name), ['b-post.example.com']);
    for (const r of [...(result.patches ?? []), ...(result.posts ?? [])]) assertRecordShape(r);

    const before = fake.records(zone.id).length;
    const refusal = await sdkRefusal(cf.dns.records.batch({ zone_id: zone.id, deletes: [{ id: b.id }], posts: [{ type: 'A', name: 'b-bad', content: 'not-an-ip', ttl: 1 }] }));
    assert.deepEqual(refusal, { status: 400, codes: [9005] });
    assert.equal(fake.records(zone.id).length, before, 'the delete before the bad post was rolled back');
  });

  test('refusals reach the SDK as Cloudflare errors: comments, tags, conflicts, auth', async () => {
    const comment = await sdkRefusal(cf.dns.records.create({ zone_id: zone.id, type: 'A', name: 'c1', content: '192.0.2.1', ttl: 1, comment: 'line1\nline2' }));
    assert.equal(comment.status, 400);
    const tag = await sdkRefusal(cf.dns.records.create({ zone_id: zone.id, type: 'A', name: 'c1', content: '192.0.2.1', ttl: 1, tags: ['not a tag'] }));
    assert.equal(tag.status, 400);
    await cf.dns.records.create({ zone_id: zone.id, type: 'A', name: 'c2', content: '192.0.2.2', ttl: 1 });
    assert.deepEqual(await sdkRefusal(cf.dns.records.create({ zone_id: zone.id, type: 'CNAME', name: 'c2', content: 'x.example.net', ttl: 1 })), { status: 400, codes: [81053] });
    const stranger = new Cloudflare({ apiToken: 'not-a-known-token', baseURL: fake.url, maxRetries: 0 });
    assert.deepEqual(await sdkRefusal(stranger.zones.list()), { status: 403, codes: [9109] });
    const verify = await sdkRefusal(stranger.user.tokens.verify());
    assert.deepEqual(verify, { status: 401, codes: [1000] });
  });

  test("an account API token: refused by the user's verify endpoint, verified and read at its account's", async () => {
    fake.addToken('sdk-account-token', ['zone:read', 'tokens:read'], { account: ACCOUNT, id: 'a'.repeat(32) });
    const account = new Cloudflare({ apiToken: 'sdk-account-token', baseURL: fake.url, maxRetries: 0 });
    assert.deepEqual(await sdkRefusal(account.user.tokens.verify()), { status: 401, codes: [1000] });
    assert.deepEqual(await account.accounts.tokens.verify({ account_id: ACCOUNT }), { id: 'a'.repeat(32), status: 'active' });
    const details = await account.accounts.tokens.get('a'.repeat(32), { account_id: ACCOUNT });
    assert.deepEqual(details.policies?.flatMap((p) => p.permission_groups.map((g) => g.name)).sort(), ['API Tokens Read', 'Zone Read']);
    assert.deepEqual(await sdkRefusal(account.accounts.tokens.verify({ account_id: 'acc0000000000000000000000000sdk2' })), { status: 401, codes: [1000] });
    assert.deepEqual(await sdkRefusal(cf.accounts.tokens.verify({ account_id: ACCOUNT })), { status: 401, codes: [1000] }, "a user's token is not the account's");
  });

  // The SDK types every ingress rule with a hostname, although the catch-all has none.
  type TunnelConfigParam = Parameters<typeof cf.zeroTrust.tunnels.cloudflared.configurations.update>[1]['config'];

  test('tunnel configuration: get, update (PUT) and get again, with account_id', async () => {
    const empty = await cf.zeroTrust.tunnels.cloudflared.configurations.get(TUNNEL, { account_id: ACCOUNT });
    assert.deepEqual([empty.tunnel_id, empty.account_id, empty.version], [TUNNEL, ACCOUNT, 0]);
    const ingress = [{ hostname: 'app.example.com', service: 'http://localhost:8080' }, { service: 'http_status:404' }];
    const put = await cf.zeroTrust.tunnels.cloudflared.configurations.update(TUNNEL, { account_id: ACCOUNT, config: { ingress } as TunnelConfigParam });
    assert.deepEqual([put.account_id, put.tunnel_id, put.version, put.source], [ACCOUNT, TUNNEL, 1, 'cloudflare']);
    const got = await cf.zeroTrust.tunnels.cloudflared.configurations.get(TUNNEL, { account_id: ACCOUNT });
    assert.deepEqual(got.config?.ingress, ingress);
    const bad = await sdkRefusal(cf.zeroTrust.tunnels.cloudflared.configurations.update(TUNNEL, { account_id: ACCOUNT, config: { ingress: [{ hostname: 'app.example.com', service: 'http://localhost:8080' }] } }));
    assert.deepEqual(bad, { status: 400, codes: [1056] });
  });
});
