// The pure planning steps: which DNS records change and how our routes merge into an
// existing ingress. The integration tests go through the API; these pin the rules.
import assert from 'node:assert/strict';
import { SupervisorError } from '../../src/core/errors.js';
import { describe, test } from 'node:test';
import type { DnsRecord, IngressRule } from '../../src/cloudflare/client.js';
import { mergeIngress, routeKey, type Route } from '../../src/cloudflare/ingress-merge.js';
import { desiredRecord, ownedComment, planZone } from '../../src/cloudflare/records.js';

let nextId = 0;
function record(type: string, name: string, content: string, opts: { owned?: boolean; proxied?: boolean; ttl?: number; comment?: string | null } = {}): DnsRecord {
  const proxied = opts.proxied ?? true;
  return {
    id: `rec${++nextId}`,
    type,
    name,
    content,
    proxied,
    ttl: proxied ? 1 : (opts.ttl ?? 300),
    comment: opts.comment !== undefined ? opts.comment : opts.owned ? ownedComment(null) : null,
    tags: [],
    created_on: '2026-11-01T00:00:00Z',
    modified_on: '2026-11-01T00:00:00Z',
  };
}
const cname = (name: string, content: string, proxied = true) => desiredRecord({ type: 'CNAME', name, content, proxied, ttl: 1 });

describe('planZone', () => {
  test('an identical record is unchanged, whatever case or trailing dot Cloudflare reports', () => {
    const plan = planZone('example.com', [record('CNAME', 'api.example.com', 'Tunnel.CFargotunnel.com.', { owned: true })], [cname('API.example.com.', 'tunnel.cfargotunnel.com')], [], false);
    assert.deepEqual(plan, { ops: [], conflicts: [], unchanged: 1 });
  });

  test('a proxied record asked for with a TTL is still identical (Cloudflare reports TTL 1)', () => {
    const want = desiredRecord({ type: 'A', name: 'a.example.com', content: '192.0.2.1', proxied: true, ttl: 300 });
    assert.equal(planZone('example.com', [record('A', 'a.example.com', '192.0.2.1', { owned: true })], [want], [], false).unchanged, 1);
  });

  test('our record with other content is updated in place, not duplicated', () => {
    const mine = record('CNAME', 'api.example.com', 'old.example.net', { owned: true });
    const plan = planZone('example.com', [mine], [cname('api.example.com', 'new.example.net')], [], false);
    assert.equal(plan.ops.length, 1);
    assert.equal(plan.ops[0]!.action, 'update');
    assert.equal((plan.ops[0] as { id: string }).id, mine.id);
  });

  test('a foreign record is a conflict without force and is updated with it', () => {
    const theirs = record('CNAME', 'api.example.com', 'old.example.net');
    const refused = planZone('example.com', [theirs], [cname('api.example.com', 'new.example.net')], [], false);
    assert.equal(refused.ops.length, 0);
    assert.equal(refused.conflicts.length, 1);
    assert.match(refused.conflicts[0]!.reason, /not made by the supervisor.*force/);
    assert.equal(planZone('example.com', [theirs], [cname('api.example.com', 'new.example.net')], [], true).ops[0]!.action, 'update');
  });

  test("someone else's record that already says exactly this is left alone and counts as unchanged; force adopts it", () => {
    const theirs = record('CNAME', 'api.example.com', 'origin.example.net', { proxied: false, ttl: 300 });
    assert.deepEqual(planZone('example.com', [theirs], [cname('api.example.com', 'origin.example.net')], [], false), { ops: [], conflicts: [], unchanged: 1 });
    const forced = planZone('example.com', [theirs], [cname('api.example.com', 'origin.example.net')], [], true);
    assert.deepEqual(forced.ops.map((o) => o.action), ['update']);
  });

  test('a foreign A record is not joined by a second address (no accidental round robin)', () => {
    const want = desiredRecord({ type: 'A', name: 'www.example.com', content: '192.0.2.2', proxied: true, ttl: 1 });
    const plan = planZone('example.com', [record('A', 'www.example.com', '192.0.2.1')], [want], [], false);
    assert.deepEqual(plan.ops, []);
    assert.equal(plan.conflicts.length, 1);
  });

  test('a CNAME replacing our A record deletes it first; a foreign A blocks it', () => {
    const ours = record('A', 'api.example.com', '192.0.2.1', { owned: true });
    const plan = planZone('example.com', [ours], [cname('api.example.com', 't.cfargotunnel.com')], [], false);
    assert.deepEqual(plan.ops.map((o) => o.action), ['delete', 'create']);
    const blocked = planZone('example.com', [record('A', 'api.example.com', '192.0.2.1')], [cname('api.example.com', 't.cfargotunnel.com')], [], false);
    assert.deepEqual(blocked.ops, []);
    assert.match(blocked.conflicts[0]!.reason, /cannot coexist with a CNAME/);
  });

  test('deletes take only our records, of the asked type and content', () => {
    const records = [
      record('CNAME', 'x.example.com', 'a.cfargotunnel.com', { owned: true }),
      record('TXT', 'x.example.com', 'v=spf1 -all'),
      record('CNAME', 'y.example.com', 'a.cfargotunnel.com'),
      record('CNAME', 'z.example.com', 'b.cfargotunnel.com', { owned: true }),
    ];
    const plan = planZone('example.com', records, [], [{ name: 'x.example.com' }, { name: 'y.example.com' }, { name: 'z.example.com', type: 'CNAME', content: 'a.cfargotunnel.com' }], false);
    assert.deepEqual(plan.ops.map((o) => (o.action === 'delete' ? o.before.name : '')), ['x.example.com']);
    assert.deepEqual(plan.conflicts.map((c) => c.name), ['y.example.com']);
  });

  test('a user comment follows the ownership mark and counts in the comparison', () => {
    const want = desiredRecord({ type: 'CNAME', name: 'c.example.com', content: 't.example.net', proxied: true, ttl: 1, comment: 'billing api' });
    const same = record('CNAME', 'c.example.com', 't.example.net', { comment: 'managed-by:supervisor billing api' });
    const other = record('CNAME', 'c.example.com', 't.example.net', { comment: 'managed-by:supervisor' });
    assert.equal(planZone('example.com', [same], [want], [], false).unchanged, 1);
    assert.equal(planZone('example.com', [other], [want], [], false).ops[0]!.action, 'update');
  });

  test('bad records are refused before any call', () => {
    assert.throws(() => desiredRecord({ type: 'A', name: 'a.example.com', content: '999.1.1.1', proxied: true, ttl: 1 }), /IPv4/);
    assert.throws(() => desiredRecord({ type: 'AAAA', name: 'a.example.com', content: '192.0.2.1', proxied: true, ttl: 1 }), /IPv6/);
    assert.throws(() => desiredRecord({ type: 'A', name: 'a.example.com', content: '192.0.2.1', proxied: false, ttl: 5 }), /ttl/);
    assert.throws(() => desiredRecord({ type: 'CNAME', name: 'a.example.com', content: 't.example.net', proxied: true, ttl: 1, comment: 'x'.repeat(90) }), /too long/);
    assert.equal(desiredRecord({ type: 'AAAA', name: 'a.example.com', content: '2001:DB8:0:0:0:0:0:1', proxied: true, ttl: 1 }).content, '2001:db8::1');
  });

  test("a bad CNAME target is named as the target, and a CNAME to its own name is refused before Cloudflare's 9007", () => {
    const target = (err: unknown) => err instanceof SupervisorError && (err.details as { field?: string }).field === 'target';
    assert.throws(() => desiredRecord({ type: 'CNAME', name: 'ok.example.com', content: 'not a host', proxied: true, ttl: 1 }), (err) => target(err) && /^target: the CNAME target "not a host" has an invalid label/.test((err as Error).message));
    assert.throws(() => desiredRecord({ type: 'CNAME', name: 'ok.example.com', content: 'OK.example.com.', proxied: true, ttl: 1 }), (err) => target(err) && /a CNAME cannot point at its own name \(ok\.example\.com\)/.test((err as Error).message));
  });
});

const route = (hostname: string, service: string, path = ''): Route => ({ hostname, path, service, source: 'manual', project: null, dns: true });
const owned = (...keys: Array<[string, string?]>) => new Set(keys.map(([h, p]) => routeKey(h, p ?? '')));

describe('mergeIngress', () => {
  const existing: IngressRule[] = [
    { hostname: 'hand.example.com', service: 'http://localhost:8080' },
    { hostname: 'old.example.com', service: 'http://localhost:4001' },
    { service: 'hello_world' },
  ];

  test('keeps foreign rules and the existing catch-all, drops our rules no longer wanted, adds new ones', () => {
    const merged = mergeIngress(existing, [route('new.example.com', 'http://localhost:4002')], owned(['old.example.com']), false);
    assert.deepEqual(merged.ingress, [
      { hostname: 'hand.example.com', service: 'http://localhost:8080' },
      { hostname: 'new.example.com', service: 'http://localhost:4002' },
      { service: 'hello_world' },
    ]);
    assert.deepEqual(merged.plan.add.map((r) => r.hostname), ['new.example.com']);
    assert.deepEqual(merged.plan.remove.map((r) => r.hostname), ['old.example.com']);
    assert.equal(merged.plan.kept, 1);
    assert.deepEqual(merged.owned, [{ hostname: 'new.example.com', path: '', service: 'http://localhost:4002' }]);
  });

  test('a foreign rule for a wanted hostname wins unless forced; the same service is adopted', () => {
    const conflicting = mergeIngress(existing, [route('hand.example.com', 'http://localhost:9000')], owned(), false);
    assert.deepEqual(conflicting.plan.conflicts, [{ hostname: 'hand.example.com', path: '', wanted: 'http://localhost:9000', existing: 'http://localhost:8080' }]);
    assert.ok(conflicting.ingress.some((r) => r.service === 'http://localhost:8080'));
    assert.deepEqual(conflicting.owned, []);

    const forced = mergeIngress(existing, [route('hand.example.com', 'http://localhost:9000')], owned(), true);
    assert.deepEqual(forced.plan.change, [{ hostname: 'hand.example.com', path: '', before: 'http://localhost:8080', after: 'http://localhost:9000' }]);
    assert.equal(forced.ingress.some((r) => r.service === 'http://localhost:8080'), false);

    const adopted = mergeIngress(existing, [route('hand.example.com', 'http://localhost:8080')], owned(), false);
    assert.deepEqual(adopted.plan.conflicts, []);
    assert.deepEqual(adopted.owned, [{ hostname: 'hand.example.com', path: '', service: 'http://localhost:8080' }]);
  });

  test("a rule's own settings (originRequest) stay when a route takes it over or changes its service", () => {
    const withSettings: IngressRule[] = [
      { hostname: 'grafana.example.com', service: 'https://localhost:3443', originRequest: { noTLSVerify: true, connectTimeout: '10s' } },
      { hostname: 'api.example.com', service: 'http://localhost:4000', originRequest: { keepAliveTimeout: '90s' } },
      { service: 'http_status:404' },
    ];
    // grafana: a hand-written rule adopted by an import (now ours); api: ours, its port changed.
    const merged = mergeIngress(withSettings, [route('grafana.example.com', 'https://localhost:3443'), route('api.example.com', 'http://localhost:4100')], owned(['grafana.example.com'], ['api.example.com']), false);
    assert.deepEqual(merged.ingress, [
      { hostname: 'api.example.com', service: 'http://localhost:4100', originRequest: { keepAliveTimeout: '90s' } },
      { hostname: 'grafana.example.com', service: 'https://localhost:3443', originRequest: { noTLSVerify: true, connectTimeout: '10s' } },
      { service: 'http_status:404' },
    ]);
    assert.deepEqual(merged.plan.change, [{ hostname: 'api.example.com', path: '', before: 'http://localhost:4000', after: 'http://localhost:4100' }], 'only the service change is a change');
  });

  test('an empty ingress gets the 404 catch-all last; merging the result again changes nothing', () => {
    const first = mergeIngress([], [route('*.example.com', 'http://localhost:1'), route('a.example.com', 'http://localhost:2'), route('*.b.example.com', 'http://localhost:3')], owned(), false);
    assert.deepEqual(first.ingress.map((r) => r.hostname ?? r.service), ['a.example.com', '*.b.example.com', '*.example.com', 'http_status:404']);
    const again = mergeIngress(first.ingress, [route('*.example.com', 'http://localhost:1'), route('a.example.com', 'http://localhost:2'), route('*.b.example.com', 'http://localhost:3')], owned(['*.example.com'], ['a.example.com'], ['*.b.example.com']), false);
    assert.deepEqual(again.ingress, first.ingress);
    assert.deepEqual([again.plan.add, again.plan.remove, again.plan.change], [[], [], []]);
  });
});
