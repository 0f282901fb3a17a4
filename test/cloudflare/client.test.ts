// CloudflareClient against the fake Cloudflare API: envelope, pagination, retries, error mapping, budget.
import { test, describe, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { CloudflareClient, type CloudflareClientOptions } from '../../src/cloudflare/client.js';
import { ManualClock } from '../../src/core/clock.js';
import { SupervisorError } from '../../src/core/errors.js';
import { startFakeCloudflare, type FakeCloudflare, type Zone } from '../fakes/cloudflare/index.js';
import { isError } from '../helpers/errors.js';

const TOKEN = 'full-token-s3cret';
let fake: FakeCloudflare;
let zone: Zone;

/** A client whose sleeps are recorded, not waited, so retry tests run instantly. */
function client(opts: Partial<Omit<CloudflareClientOptions, 'token'>> & { token?: string } = {}): { cf: CloudflareClient; sleeps: number[] } {
  const sleeps: number[] = [];
  const token = opts.token ?? TOKEN;
  const cf = new CloudflareClient({
    baseUrl: fake.url,
    sleep: async (ms) => void sleeps.push(ms),
    ...opts,
    token: async () => token,
  });
  return { cf, sleeps };
}


before(async () => {
  fake = await startFakeCloudflare();
  fake.addToken(TOKEN, ['zone:read', 'dns:read', 'dns:edit', 'tunnel:read', 'tunnel:edit', 'tokens:read'], { id: 'a'.repeat(32) });
  fake.addToken('readonly-token-s3cret', ['zone:read', 'dns:read']);
  zone = fake.addZone('example.com', { accountId: 'acc1' });
});

after(() => fake.close());

afterEach(() => {
  fake.clearFaults();
  fake.resetCalls();
});

describe('envelope and pagination', () => {
  test('verifyToken and a single request unwrap result and result_info', async () => {
    const { cf } = client();
    assert.deepEqual(await cf.verifyToken(), { id: 'a'.repeat(32), status: 'active' });
    const r = await cf.request<Zone[]>('GET', '/zones', { query: { name: 'example.com' } });
    assert.deepEqual(r.result.map((z) => z.id), [zone.id]);
    assert.deepEqual(r.resultInfo, { page: 1, per_page: 20, count: 1, total_count: 1, total_pages: 1 });
    assert.deepEqual((await cf.listZones('example.com')).map((z) => z.account.id), ['acc1']);
    assert.equal(fake.calls.at(-1)?.query.per_page, '50');
  });

  test('250 records are collected from three pages of 100', async () => {
    const big = fake.addZone('big.test');
    for (let i = 0; i < 250; i++) fake.addRecord(big.id, { type: 'TXT', name: `r${i}`, content: `v${i}` });
    const { cf } = client();
    const all = await cf.listDnsRecords(big.id, { type: 'TXT' });
    assert.equal(all.length, 250);
    assert.equal(new Set(all.map((r) => r.id)).size, 250);
    const pages = fake.calls.filter((c) => c.path === `/zones/${big.id}/dns_records`);
    assert.deepEqual(
      pages.map((c) => [c.query.page, c.query.per_page, c.query.type]),
      [
        ['1', '100', 'TXT'],
        ['2', '100', 'TXT'],
        ['3', '100', 'TXT'],
      ],
    );
  });
});

describe('retries', () => {
  test('429 twice honours Retry-After, then succeeds', async () => {
    fake.failNext(2, { status: 429, retryAfterSeconds: 3 }, '/zones');
    const { cf, sleeps } = client();
    assert.equal((await cf.listZones('example.com')).length, 1);
    assert.deepEqual(sleeps, [3000, 3000]);
    assert.deepEqual(fake.calls.map((c) => c.status), [429, 429, 200]);
  });

  test('500 forever is unavailable after maxRetries + 1 attempts with growing backoff', async () => {
    fake.failAlways({ status: 500 }, '/zones');
    const { cf, sleeps } = client({ maxRetries: 3 });
    await assert.rejects(cf.listZones(), (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, 'unavailable');
      assert.equal(err.message, 'Cloudflare API GET /zones failed after 4 attempts: HTTP 500 (10001 Internal Server Error)');
      return true;
    });
    assert.equal(fake.calls.length, 4);
    assert.equal(sleeps.length, 3);
    sleeps.forEach((ms, i) => {
      const ceiling = 500 * 2 ** i;
      assert.ok(ms >= ceiling / 2 && ms <= ceiling, `sleep ${i} = ${ms}`);
    });
  });

  test('502 edge HTML pages are retried too', async () => {
    fake.failNext(1, { status: 502 }, '/zones');
    const { cf, sleeps } = client();
    assert.equal((await cf.listZones()).length >= 1, true);
    assert.equal(sleeps.length, 1);
  });

  test('a dropped connection is retried, then succeeds', async () => {
    fake.failNext(1, { drop: true });
    const { cf, sleeps } = client();
    assert.equal((await cf.verifyToken()).status, 'active');
    assert.equal(sleeps.length, 1);
    assert.equal(fake.calls.length, 2);
  });

  test('a timed-out attempt is retried; a permanent timeout names the cause', async () => {
    // The fake answers late (3 s) where the client waits 500 ms: far apart, so a loaded machine does not blur them.
    fake.failNext(1, { delayMs: 3000 });
    const { cf } = client({ timeoutMs: 500 });
    assert.equal((await cf.verifyToken()).status, 'active');
    fake.failAlways({ delayMs: 3000 });
    const { cf: impatient } = client({ timeoutMs: 500, maxRetries: 1 });
    try {
      await assert.rejects(impatient.verifyToken(), /failed after 2 attempts: timed out after 500 ms/);
    } finally {
      fake.clearFaults();
    }
  });
});

describe('refusals', () => {
  test('81053 is surfaced at once as conflict with the Cloudflare code', async () => {
    fake.addRecord(zone.id, { type: 'A', name: 'taken', content: '192.0.2.1' });
    const { cf, sleeps } = client();
    await assert.rejects(cf.createDnsRecord(zone.id, { type: 'CNAME', name: 'taken', content: 'elsewhere.example.net' }), (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, 'conflict');
      // Cloudflare's own wording is passed through verbatim (it ends with a link to its docs).
      assert.ok(err.message.startsWith(`Cloudflare rejected POST /zones/${zone.id}/dns_records: 81053 An A, AAAA, or CNAME record with that host already exists.`), err.message);
      const { cloudflareErrors, status } = err.details as { cloudflareErrors: Array<{ code: number; message: string }>; status: number };
      assert.equal(status, 400);
      assert.deepEqual(cloudflareErrors.map((e) => e.code), [81053]);
      assert.ok(err.message.endsWith(cloudflareErrors[0]?.message ?? '?'));
      return true;
    });
    assert.deepEqual(sleeps, []);
    assert.equal(fake.calls.length, 1);
  });

  test('invalid input and missing records map to invalid_input and not_found', async () => {
    const { cf } = client();
    await assert.rejects(cf.createDnsRecord(zone.id, { type: 'A', name: 'bad', content: '300.1.1.1' }), isError('invalid_input'));
    await assert.rejects(cf.deleteDnsRecord(zone.id, 'f'.repeat(32)), (err: unknown) => {
      assert.ok(isError('not_found')(err));
      assert.match((err as SupervisorError).message, /81044 Record does not exist\./);
      return true;
    });
  });

  test("an error's chain of causes is in the message: a token Cloudflare cannot parse names 6111, not only 6003", async () => {
    const { cf } = client({ token: 'dotted.token-s3cret' });
    await assert.rejects(cf.listZones(), (err: unknown) => {
      assert.ok(isError('not_configured')(err));
      assert.match((err as SupervisorError).message, /6003 Invalid request headers \(6111 Invalid format for Authorization header\)/);
      assert.ok(!(err as SupervisorError).message.includes('dotted.token-s3cret'));
      return true;
    });
  });

  test('a wrong token is not_configured (on verify and elsewhere), a missing permission forbidden, neither retried; the token never appears in the error', async () => {
    const secret = 'wrong-token-do-not-leak';
    const { cf, sleeps } = client({ token: secret });
    for (const [call, code] of [
      [() => cf.verifyToken(), 'not_configured'],
      [() => cf.listZones(), 'not_configured'],
    ] as const) {
      await assert.rejects(call(), (err: unknown) => {
        assert.ok(err instanceof SupervisorError);
        assert.equal(err.code, code);
        const text = `${err.message} ${JSON.stringify(err.toJSON())} ${String(err.stack)}`;
        assert.ok(!text.includes(secret), text);
        return true;
      });
    }
    const { cf: readonly } = client({ token: 'readonly-token-s3cret' });
    await assert.rejects(readonly.createDnsRecord(zone.id, { type: 'A', name: 'ro', content: '192.0.2.9' }), (err: unknown) => {
      assert.ok(isError('forbidden')(err));
      assert.deepEqual((err as SupervisorError).details.cloudflareErrors, [{ code: 10000, message: 'POST method not allowed for the api_token authentication scheme' }]);
      assert.ok(!(err as SupervisorError).message.includes('readonly-token-s3cret'));
      assert.match((err as SupervisorError).message, /lacks a permission/);
      return true;
    });
    assert.deepEqual(sleeps, [], 'no retry');
    assert.equal(fake.calls.length, 3, 'one call each');
  });

  test('a token that cannot go in a header is refused before any call; surrounding whitespace is dropped', async () => {
    for (const token of ['two\nlines', 'nul\0byte', 'inner space', '   ']) {
      const { cf, sleeps } = client({ token });
      await assert.rejects(cf.listZones(), (err: unknown) => {
        assert.ok(isError('not_configured')(err));
        assert.equal((err as SupervisorError).details.auth, 'malformed_token');
        return true;
      });
      assert.deepEqual(sleeps, []);
    }
    assert.deepEqual(fake.calls, []);
    const { cf } = client({ token: `  ${TOKEN}\n` });
    assert.deepEqual((await cf.listZones('example.com')).map((z) => z.id), [zone.id]);
  });
});

describe('helpers', () => {
  test('create, update, batch and delete DNS records', async () => {
    const { cf } = client();
    const rec = await cf.createDnsRecord(zone.id, { type: 'A', name: 'helper', content: '192.0.2.30', comment: 'c' });
    assert.equal(rec.name, 'helper.example.com');
    const put = await cf.updateDnsRecord(zone.id, rec.id, { type: 'A', name: 'helper', content: '192.0.2.31' });
    assert.deepEqual([put.content, put.comment], ['192.0.2.31', null]);
    const batch = await cf.batchDnsRecords(zone.id, { deletes: [{ id: rec.id }], posts: [{ type: 'A', name: 'helper', content: '192.0.2.32' }] });
    assert.deepEqual([batch.deletes.length, batch.patches.length, batch.puts.length, batch.posts.length], [1, 0, 0, 1]);
    assert.deepEqual(fake.calls.at(-1)?.body, { deletes: [{ id: rec.id }], posts: [{ type: 'A', name: 'helper', content: '192.0.2.32' }] });
    const listed = await cf.listDnsRecords(zone.id, { 'name.exact': 'helper.example.com' });
    assert.deepEqual(listed.map((r) => r.content), ['192.0.2.32']);
    assert.deepEqual(await cf.deleteDnsRecord(zone.id, batch.posts[0]?.id ?? ''), { id: batch.posts[0]?.id });
  });

  test('get and put tunnel configuration', async () => {
    fake.addTunnel('acc1', 'tun1');
    const { cf } = client();
    assert.deepEqual([(await cf.getTunnelConfig('acc1', 'tun1')).version, (await cf.getTunnelConfig('acc1', 'tun1')).config], [0, null]);
    const config = { ingress: [{ hostname: 'app.example.com', service: 'http://localhost:8080' }, { service: 'http_status:404' }] };
    const put = await cf.putTunnelConfig('acc1', 'tun1', config);
    assert.equal(put.version, 1);
    assert.deepEqual(fake.tunnelConfig('acc1', 'tun1')?.config.ingress, config.ingress);
  });
});

describe('rate budget', () => {
  test('with 5 per 1,000 ms the 6th call waits for the window instead of getting a 429', async () => {
    const clock = new ManualClock();
    const sleeps: number[] = [];
    const cf = new CloudflareClient({
      baseUrl: fake.url,
      token: async () => TOKEN,
      budget: { requests: 5, windowMs: 1000 },
      clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
    });
    for (let i = 0; i < 5; i++) {
      await cf.verifyToken();
      clock.advance(100);
    }
    assert.deepEqual(sleeps, []);
    await cf.verifyToken();
    // The first call started at t=0 and five ran by t=500, so the sixth waits until t=1000.
    assert.deepEqual(sleeps, [500]);
    assert.equal(fake.calls.length, 6);
    assert.ok(fake.calls.every((c) => c.status === 200));
  });

  test('concurrent callers queue rather than overrun the budget', async () => {
    const clock = new ManualClock();
    const sleeps: number[] = [];
    const cf = new CloudflareClient({
      baseUrl: fake.url,
      token: async () => TOKEN,
      budget: { requests: 2, windowMs: 1000 },
      clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock.advance(ms);
      },
    });
    await Promise.all(Array.from({ length: 5 }, () => cf.verifyToken()));
    assert.deepEqual(sleeps, [1000, 1000]);
    assert.equal(fake.calls.length, 5);
  });
});
