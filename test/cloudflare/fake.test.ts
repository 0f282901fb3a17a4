// Wire-format checks for the fake Cloudflare API in test/fakes/cloudflare.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeCloudflare, BATCH_LIMIT, type FakeCloudflare, type Zone } from '../fakes/cloudflare/index.js';

interface Reply {
  status: number;
  headers: Headers;
  body: {
    success: boolean;
    errors: Array<{ code: number; message: string; error_chain?: Array<{ code: number; message: string }> }>;
    messages: unknown[];
    result: unknown;
    result_info?: { page: number; per_page: number; count: number; total_count: number; total_pages: number };
  };
}

let fake: FakeCloudflare;
let zone: Zone;

async function call(method: string, path: string, opts: { token?: string | null; body?: unknown; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const token = opts.token === undefined ? 'full' : opts.token;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const res = await fetch(`${fake.url}${path}`, { method, headers, body });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Reply['body'] };
}

const codes = (r: Reply) => r.body.errors.map((e) => e.code);
const records = (r: Reply) => r.body.result as Array<Record<string, unknown>>;
const dns = (suffix = '') => `/zones/${zone.id}/dns_records${suffix}`;

before(async () => {
  fake = await startFakeCloudflare();
  fake.addToken('full', ['zone:read', 'dns:read', 'dns:edit', 'tunnel:read', 'tunnel:edit', 'tokens:read'], { id: 'f'.repeat(32) });
  fake.addToken('readonly', ['zone:read', 'dns:read', 'tunnel:read']);
  fake.addToken('zoneonly', ['zone:read']);
  fake.addToken('off', ['zone:read'], { status: 'disabled' });
  zone = fake.addZone('example.com', { accountId: 'acc1' });
  for (let i = 0; i < 6; i++) fake.addZone(`zone${i}.test`);
});

after(() => fake.close());

describe('envelope, routing and pagination', () => {
  test('lists carry result_info; per_page defaults to 20 for zones and is clamped to 50', async () => {
    const r = await call('GET', '/zones?per_page=5&page=2');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.body), ['result', 'success', 'errors', 'messages', 'result_info']);
    assert.deepEqual(r.body.result_info, { page: 2, per_page: 5, count: 2, total_count: 7, total_pages: 2 });
    assert.equal((await call('GET', '/zones?per_page=500')).body.result_info?.per_page, 50);
    const byName = await call('GET', '/zones?name=example.com');
    assert.deepEqual((byName.body.result as Zone[]).map((z) => z.id), [zone.id]);
    assert.equal(((await call('GET', `/zones/${zone.id}`)).body.result as Zone).account.id, 'acc1');
  });

  test('unknown routes and zone ids answer 404 7003, even without credentials', async () => {
    const r = await call('GET', '/nothing/here', { token: null });
    assert.equal(r.status, 404);
    assert.deepEqual(r.body.errors, [{ code: 7003, message: 'Could not route to /client/v4/nothing/here, perhaps your object identifier is invalid?' }]);
    assert.deepEqual(codes(await call('GET', '/zones/0123/dns_records')), [7003]);
  });

  test('malformed JSON answers 400 6007', async () => {
    const r = await call('POST', dns(), { raw: '{"type":' });
    assert.equal(r.status, 400);
    assert.deepEqual(codes(r), [6007]);
  });

  test('dns_records pages with per_page default 100', async () => {
    for (let i = 0; i < 3; i++) fake.addRecord(zone.id, { type: 'TXT', name: 'page', content: `p${i}` });
    const all = await call('GET', dns('?name=page.example.com'));
    assert.equal(all.body.result_info?.per_page, 100);
    const second = await call('GET', dns('?name=page.example.com&per_page=2&page=2'));
    assert.deepEqual(second.body.result_info, { page: 2, per_page: 2, count: 1, total_count: 3, total_pages: 2 });
    assert.equal(records(second)[0]?.content, 'p2');
  });
});

describe('auth', () => {
  test('missing, malformed, unknown and disabled tokens', async () => {
    const missing = await call('GET', '/zones', { token: null });
    assert.equal(missing.status, 400);
    assert.deepEqual(codes(missing), [9106]);
    const malformed = await fetch(`${fake.url}/zones`, { headers: { Authorization: 'Token abc' } });
    const body = (await malformed.json()) as Reply['body'];
    assert.equal(malformed.status, 400);
    assert.deepEqual(body.errors, [{ code: 6003, message: 'Invalid request headers', error_chain: [{ code: 6111, message: 'Invalid format for Authorization header' }] }]);
    for (const token of ['nope', 'off']) {
      const r = await call('GET', '/zones', { token });
      assert.equal(r.status, 403);
      assert.deepEqual(r.body.errors, [{ code: 9109, message: 'Invalid access token' }]);
    }
    const verify = await call('GET', '/user/tokens/verify', { token: 'nope' });
    assert.equal(verify.status, 401);
    assert.deepEqual(codes(verify), [1000]);
  });

  test('verify returns id and status with the 10000 message', async () => {
    const r = await call('GET', '/user/tokens/verify');
    assert.deepEqual(r.body.result, { id: 'f'.repeat(32), status: 'active' });
    assert.deepEqual(r.body.messages, [{ code: 10000, message: 'This API Token is valid and active', type: null }]);
  });

  test('missing permissions answer 403 in each product’s words', async () => {
    const noDns = await call('GET', dns(), { token: 'zoneonly' });
    assert.equal(noDns.status, 403);
    assert.deepEqual(noDns.body.errors, [{ code: 10000, message: 'Authentication error' }]);
    const readOnly = await call('POST', dns(), { token: 'readonly', body: { type: 'A', name: 'x', content: '192.0.2.1' } });
    assert.deepEqual(readOnly.body.errors, [{ code: 10000, message: 'POST method not allowed for the api_token authentication scheme' }]);
    const tokenRead = await call('GET', `/user/tokens/${'f'.repeat(32)}`, { token: 'readonly' });
    assert.equal(tokenRead.status, 403);
    assert.deepEqual(codes(tokenRead), [9109]);
  });

  test('token details list real permission group names', async () => {
    const r = await call('GET', `/user/tokens/${'f'.repeat(32)}`);
    const result = r.body.result as { policies: Array<{ effect: string; permission_groups: Array<{ name: string }> }> };
    const names = result.policies.flatMap((p) => p.permission_groups.map((g) => g.name)).sort();
    assert.deepEqual(names, ['API Tokens Read', 'Cloudflare Tunnel Read', 'Cloudflare Tunnel Write', 'DNS Read', 'DNS Write', 'Zone Read']);
    assert.ok(result.policies.every((p) => p.effect === 'allow'));
  });
});

describe('dns records', () => {
  test('create completes names, lower-cases them and reports proxied ttl as 1', async () => {
    const r = await call('POST', dns(), { body: { type: 'A', name: 'WWW', content: '192.0.2.10', ttl: 300, proxied: true, comment: 'web' } });
    assert.equal(r.status, 200);
    const rec = r.body.result as Record<string, unknown>;
    assert.equal(rec.name, 'www.example.com');
    assert.equal(rec.ttl, 1);
    assert.equal(rec.proxiable, true);
    assert.equal(rec.zone_id, zone.id);
    assert.match(String(rec.id), /^[0-9a-f]{32}$/);
    const apex = await call('POST', dns(), { body: { type: 'TXT', name: '@', content: 'v=spf1 -all' } });
    assert.equal((apex.body.result as { name: string }).name, 'example.com');
    // The API appends the zone to names of other domains rather than refusing them.
    const other = await call('POST', dns(), { body: { type: 'TXT', name: 'a.other.org', content: 'x' } });
    assert.equal((other.body.result as { name: string }).name, 'a.other.org.example.com');
  });

  test('field validation errors', async () => {
    const cases: Array<[Record<string, unknown>, number[]]> = [
      [{ type: 'A', name: 'v1', content: '300.1.1.1' }, [9005]],
      [{ type: 'AAAA', name: 'v1', content: '192.0.2.1' }, [9006]],
      [{ type: 'CNAME', name: 'v1', content: 'v1.example.com' }, [9007]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', ttl: 30 }, [9021]],
      [{ type: 'TXT', name: 'v1', content: 'x', proxied: true }, [9041]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', comment: 'c'.repeat(101) }, [9313]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', comment: 'line1\nline2' }, [9314]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', comment: 'cr\r' }, [9314]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', tags: ['no-colon'] }, [9315]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', tags: ['bad name:x'] }, [9315]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', tags: ['owner:a\nb'] }, [9315]],
      [{ type: 'A', name: 'v1', content: '192.0.2.1', tags: [':value'] }, [9315]],
      [{ type: 'MX', name: 'v1', content: 'mx.example.com' }, [1004]],
    ];
    for (const [body, expected] of cases) {
      const r = await call('POST', dns(), { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.deepEqual(codes(r), expected, JSON.stringify(body));
    }
    // The root cause is the error itself, as the API answers since October 2024, not a 1004 with an error_chain.
    const ttl = await call('POST', dns(), { body: { type: 'A', name: 'v1', content: '192.0.2.1', ttl: 30 } });
    assert.deepEqual(ttl.body.errors, [{ code: 9021, message: 'Invalid TTL. Must be between 60 and 86400 seconds, or 1 for automatic.' }]);
  });

  test('Unicode names are stored as punycode, tag names lower-case; both are found by the forms they were given in', async () => {
    const r = await call('POST', dns(), { body: { type: 'A', name: 'bücher', content: '192.0.2.40', tags: ['Owner:Team A', 'env:'] } });
    assert.equal(r.status, 200, JSON.stringify(r.body.errors));
    const rec = r.body.result as { name: string; tags: string[] };
    assert.equal(rec.name, 'xn--bcher-kva.example.com');
    assert.deepEqual(rec.tags, ['owner:Team A', 'env:']);
    assert.deepEqual(records(await call('GET', dns('?name=bücher.example.com'))).map((x) => x.name), ['xn--bcher-kva.example.com']);
  });

  test('duplicate and same-name conflicts use 81058, 81057, 81053, 81054', async () => {
    fake.addRecord(zone.id, { type: 'A', name: 'dup', content: '192.0.2.1' });
    fake.addRecord(zone.id, { type: 'CNAME', name: 'alias', content: 'target.example.net' });
    const cases: Array<[Record<string, unknown>, number]> = [
      [{ type: 'A', name: 'dup', content: '192.0.2.1' }, 81058],
      [{ type: 'A', name: 'dup', content: '192.0.2.1', ttl: 120 }, 81057],
      [{ type: 'CNAME', name: 'dup', content: 'elsewhere.example.net' }, 81053],
      [{ type: 'AAAA', name: 'alias', content: '2001:db8::1' }, 81054],
    ];
    for (const [body, code] of cases) {
      const r = await call('POST', dns(), { body });
      assert.equal(r.status, 400);
      assert.deepEqual(codes(r), [code], JSON.stringify(body));
    }
    assert.equal((await call('POST', dns(), { body: { type: 'A', name: 'dup', content: '192.0.2.2' } })).status, 200);
    assert.equal((await call('POST', dns(), { body: { type: 'TXT', name: 'alias', content: 'ok' } })).status, 200);
  });

  test('get, patch, put and delete; a missing record is 404 81044', async () => {
    const created = await call('POST', dns(), { body: { type: 'A', name: 'crud', content: '192.0.2.20', comment: 'keep' } });
    const { id } = created.body.result as { id: string };
    assert.equal((await call('GET', dns(`/${id}`))).status, 200);
    const patched = await call('PATCH', dns(`/${id}`), { body: { content: '192.0.2.21' } });
    assert.deepEqual([(patched.body.result as { content: string }).content, (patched.body.result as { comment: string }).comment], ['192.0.2.21', 'keep']);
    const put = await call('PUT', dns(`/${id}`), { body: { type: 'A', name: 'crud', content: '192.0.2.22' } });
    assert.equal((put.body.result as { comment: unknown }).comment, null);
    assert.deepEqual((await call('DELETE', dns(`/${id}`))).body.result, { id });
    for (const method of ['GET', 'DELETE']) {
      const r = await call(method, dns(`/${id}`));
      assert.equal(r.status, 404);
      assert.deepEqual(r.body.errors, [{ code: 81044, message: 'Record does not exist.' }]);
    }
  });

  test('list filters, match=any and order', async () => {
    fake.addRecord(zone.id, { type: 'A', name: 'f1.lab', content: '198.51.100.1', comment: 'Managed by supervisor' });
    fake.addRecord(zone.id, { type: 'A', name: 'f2.lab', content: '198.51.100.2', proxied: true });
    fake.addRecord(zone.id, { type: 'TXT', name: 'f3.lab', content: 'hello', tags: ['owner:svc'] });
    const names = async (q: string) => records(await call('GET', dns(`?${q}`))).map((r) => r.name);
    assert.deepEqual(await names('name.endswith=.lab.example.com&type=A'), ['f1.lab.example.com', 'f2.lab.example.com']);
    assert.deepEqual(await names('name.endswith=.lab.example.com&proxied=true'), ['f2.lab.example.com']);
    assert.deepEqual(await names('comment.contains=SUPERVISOR'), ['f1.lab.example.com']);
    assert.deepEqual(await names('name.contains=lab&comment.present=1'), ['f1.lab.example.com']);
    assert.deepEqual(await names('content=198.51.100.2'), ['f2.lab.example.com']);
    assert.deepEqual(await names('name.startswith=f3.&tag=owner:svc'), ['f3.lab.example.com']);
    assert.deepEqual(await names('match=any&name.exact=f1.lab.example.com&content.exact=hello'), ['f1.lab.example.com', 'f3.lab.example.com']);
    assert.deepEqual(await names('name.endswith=.lab.example.com&order=name&direction=desc'), ['f3.lab.example.com', 'f2.lab.example.com', 'f1.lab.example.com']);
  });
});

describe('dns batch', () => {
  test('runs deletes, patches, puts, posts in that order and answers each list', async () => {
    const old = fake.addRecord(zone.id, { type: 'CNAME', name: 'swap', content: 'old.example.net' });
    const keep = fake.addRecord(zone.id, { type: 'A', name: 'keep', content: '203.0.113.1' });
    // The post only fits because the delete runs first, although it is listed last.
    const r = await call('POST', dns('/batch'), {
      body: {
        posts: [{ type: 'A', name: 'swap', content: '203.0.113.9' }],
        patches: [{ id: keep.id, comment: 'patched' }],
        deletes: [{ id: old.id }],
      },
    });
    assert.equal(r.status, 200);
    const result = r.body.result as Record<string, Array<{ id: string; name: string; comment: string | null }>>;
    assert.deepEqual(Object.keys(result), ['deletes', 'patches', 'puts', 'posts']);
    assert.equal(result.deletes?.[0]?.id, old.id);
    assert.equal(result.patches?.[0]?.comment, 'patched');
    assert.equal(result.posts?.[0]?.name, 'swap.example.com');
    assert.deepEqual(fake.records(zone.id).filter((x) => x.name === 'swap.example.com').map((x) => x.type), ['A']);
  });

  test('is all-or-nothing', async () => {
    const before = fake.records(zone.id);
    const victim = before[0];
    assert.ok(victim);
    const r = await call('POST', dns('/batch'), {
      body: {
        deletes: [{ id: victim.id }],
        posts: [{ type: 'A', name: 'atomic', content: '203.0.113.5' }, { type: 'A', name: 'atomic', content: '203.0.113.5' }],
      },
    });
    assert.equal(r.status, 400);
    assert.deepEqual(codes(r), [81058]);
    assert.deepEqual(fake.records(zone.id), before);
  });

  test(`refuses more than ${BATCH_LIMIT} operations`, async () => {
    const posts = Array.from({ length: BATCH_LIMIT + 1 }, (_, i) => ({ type: 'TXT', name: 'bulk', content: `n${i}` }));
    const r = await call('POST', dns('/batch'), { body: { posts } });
    assert.equal(r.status, 400);
    assert.equal(fake.records(zone.id).filter((x) => x.name === 'bulk.example.com').length, 0);
  });

  test('rejectBatchIf fails the whole batch', async () => {
    fake.rejectBatchIf((op) => op.kind === 'posts' && (op.body as { content?: string }).content === 'bad');
    const r = await call('POST', dns('/batch'), { body: { posts: [{ type: 'TXT', name: 'rej', content: 'good' }, { type: 'TXT', name: 'rej', content: 'bad' }] } });
    fake.clearFaults();
    assert.equal(r.status, 400);
    assert.deepEqual(codes(r), [1004]);
    assert.equal(fake.records(zone.id).filter((x) => x.name === 'rej.example.com').length, 0);
  });
});

describe('tunnel configuration', () => {
  const path = '/accounts/acc1/cfd_tunnel/t1/configurations';

  test('GET, PUT replaces the document and bumps the version', async () => {
    fake.addTunnel('acc1', 't1');
    const empty = await call('GET', path);
    assert.deepEqual((empty.body.result as { version: number; config: unknown }).version, 0);
    assert.equal((empty.body.result as { config: unknown }).config, null);
    const config = { ingress: [{ hostname: 'app.example.com', service: 'http://localhost:8080' }, { service: 'http_status:404' }] };
    const put = await call('PUT', path, { body: { config } });
    assert.equal(put.status, 200);
    const result = put.body.result as { account_id: string; tunnel_id: string; version: number; source: string; config: { ingress: unknown[] } };
    assert.deepEqual([result.account_id, result.tunnel_id, result.version, result.source], ['acc1', 't1', 1, 'cloudflare']);
    assert.equal((empty.body.result as { account_id: string }).account_id, 'acc1');
    await call('PUT', path, { body: { config: { ingress: [{ service: 'hello_world' }] } } });
    assert.deepEqual(fake.tunnelConfig('acc1', 't1'), { version: 2, config: { ingress: [{ service: 'hello_world' }], 'warp-routing': { enabled: false } } });
  });

  test('PUT validation errors mirror cloudflared', async () => {
    const cases: Array<[unknown[], string]> = [
      [[{ hostname: 'a.example.com', service: 'http://x:1' }], 'The last ingress rule must match all URLs'],
      [[{ hostname: 'a.example.com:443', service: 'http://x' }, { service: 'http_status:404' }], 'Hostname cannot contain a port'],
      [[{ hostname: 'a.*.example.com', service: 'http://x' }, { service: 'http_status:404' }], 'at most one wildcard'],
      [[{ hostname: 'a.example.com', service: 'localhost:8080' }, { service: 'http_status:404' }], 'please make sure it has a scheme and a hostname'],
      [[{ hostname: 'a.example.com', service: 'http://x/sub' }, { service: 'http_status:404' }], "don't support proxying to a different path"],
      [[{ hostname: 'a.example.com', service: 'http://127.0.0.1:2333 ' }, { service: 'http_status:404' }], 'invalid port ":2333 " after host'],
      [[{ service: 'http://x' }, { service: 'http_status:404' }], "Rule #1 is matching the hostname ''"],
      [[{ hostname: 'a.example.com', service: 'http://x' }, { hostname: 'a.example.com', service: 'http://y' }, { service: 'http_status:404' }], 'Rule #2 repeats'],
      [[], "doesn't contain any ingress rules"],
    ];
    for (const [ingress, text] of cases) {
      const r = await call('PUT', path, { body: { config: { ingress } } });
      assert.equal(r.status, 400, text);
      assert.equal(r.body.errors[0]?.code, 1056);
      assert.match(r.body.errors[0]?.message ?? '', /^Bad Configuration: Validation failed: .*\n$/s);
      assert.ok(r.body.errors[0]?.message.includes(text), text);
    }
    assert.equal(fake.tunnelConfig('acc1', 't1')?.version, 2);
  });

  test('unknown tunnel is 404; read-only tokens cannot PUT', async () => {
    assert.equal((await call('GET', '/accounts/acc1/cfd_tunnel/nope/configurations')).status, 404);
    const r = await call('PUT', path, { token: 'readonly', body: { config: { ingress: [{ service: 'hello_world' }] } } });
    assert.deepEqual(r.body.errors, [{ code: 10000, message: 'PUT method not allowed for the api_token authentication scheme' }]);
  });
});

describe('faults, rate limit and call log', () => {
  test('failNext 429 carries Retry-After and code 971, then requests pass again', async () => {
    fake.failNext(1, { status: 429, retryAfterSeconds: 7 }, '/dns_records');
    const limited = await call('GET', dns());
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '7');
    assert.deepEqual(codes(limited), [971]);
    assert.equal((await call('GET', dns())).status, 200);
  });

  test('502 is an HTML edge page; failAlways holds until clearFaults', async () => {
    fake.failAlways({ status: 502 }, '/zones');
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${fake.url}/zones`, { headers: { Authorization: 'Bearer full' } });
      assert.equal(res.status, 502);
      assert.match(res.headers.get('content-type') ?? '', /text\/html/);
      await res.text();
    }
    fake.clearFaults();
    assert.equal((await call('GET', '/zones')).status, 200);
  });

  test('drop destroys the socket; delay answers late', async () => {
    fake.failNext(1, { drop: true });
    await assert.rejects(fetch(`${fake.url}/zones`, { headers: { Authorization: 'Bearer full' } }));
    // A delayed answer comes after one asked later without delay.
    fake.failNext(1, { delayMs: 500 });
    const order: string[] = [];
    const late = call('GET', '/zones').then((r) => order.push(`late ${r.status}`));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const prompt = call('GET', '/zones').then((r) => order.push(`prompt ${r.status}`));
    await Promise.all([late, prompt]);
    assert.deepEqual(order, ['prompt 200', 'late 200']);
  });

  test('calls records method, relative path, query, body and status', async () => {
    fake.resetCalls();
    await call('POST', dns(), { body: { type: 'TXT', name: 'log', content: 'x' } });
    await call('GET', '/zones?name=example.com');
    assert.deepEqual(
      fake.calls.map(({ method, path, query, status }) => ({ method, path, query, status })),
      [
        { method: 'POST', path: `/zones/${zone.id}/dns_records`, query: {}, status: 200 },
        { method: 'GET', path: '/zones', query: { name: 'example.com' }, status: 200 },
      ],
    );
    assert.deepEqual(fake.calls[0]?.body, { type: 'TXT', name: 'log', content: 'x' });
  });

  test('per-token rate limit answers 429 971 with Retry-After and Ratelimit headers', async () => {
    const small = await startFakeCloudflare({ rateLimit: { requests: 2, windowMs: 60_000 } });
    try {
      small.addToken('t', ['zone:read']);
      const get = () => fetch(`${small.url}/zones`, { headers: { Authorization: 'Bearer t' } });
      const first = await get();
      assert.equal(first.headers.get('ratelimit'), '"default";r=1;t=60');
      assert.equal(first.headers.get('ratelimit-policy'), '"default";q=2;w=60');
      await (await get()).text();
      const third = await get();
      assert.equal(third.status, 429);
      assert.equal(third.headers.get('retry-after'), '60');
      assert.deepEqual(((await third.json()) as Reply['body']).errors, [{ code: 971, message: 'Please wait and consider throttling your request speed' }]);
      await first.text();
    } finally {
      await small.close();
    }
  });
});
