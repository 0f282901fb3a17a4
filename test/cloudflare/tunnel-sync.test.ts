// sync_tunnel, add/remove_tunnel_route, cloudflare_gc and import_cloudflare against the fake
// API and a real config.yml on disk, on both storage backends.
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { adminPrincipal } from '../../src/core/principal.js';
import { testBackends, skipReason } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { INITIAL_CONFIG, openCloudflareFixture, TOKEN, type CloudflareFixture } from './fixture.js';
import { addProject } from '../helpers/projects.js';

const admin = adminPrincipal('test-admin');

interface Rule {
  hostname?: string;
  path?: string;
  service: string;
}

async function fileIngress(f: CloudflareFixture): Promise<Rule[]> {
  return (parse(await readFile(f.configPath, 'utf8')) as { ingress: Rule[] }).ingress;
}

/** 60 allocations with hostnames in two zones (one a suffix of the other), plus a wildcard route. */
async function sixtyRoutes(f: CloudflareFixture, project = 'web'): Promise<void> {
  await addProject(f.services, 'test', { name: project, range: { start: 20000, end: 20099 } });
  for (let i = 0; i < 60; i++) {
    const hostname = i % 2 === 0 ? `svc${i}.example.com` : `svc${i}.api.dev.example.com`;
    await f.services.ports.allocate(admin, { project, service: `s${i}`, hostname });
  }
}

const calls = (f: CloudflareFixture, method: string, pathPart: string) => f.fake.calls.filter((c) => c.method === method && c.path.includes(pathPart)).length;

for (const backend of testBackends()) {
  describe(`tunnel sync, local config.yml (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend);
    });
    after(() => f.close());

    test('60 routes: valid YAML, hand-written rule and other keys kept, catch-all last, one restart; second sync does nothing', async () => {
      await sixtyRoutes(f);
      const first = await f.invoke('sync_tunnel', {});
      assert.equal(first.changed, true);
      assert.equal(first.written, true);
      assert.equal(first.restarted, true);
      assert.equal(await f.restarts(), 1);
      // Two levels below dev.example.com: Universal SSL does not cover them, one level below example.com it does.
      const warnings = first.warnings as string[];
      assert.equal(warnings.length, 30);
      assert.ok(warnings.every((w) => /^svc\d+\.api\.dev\.example\.com is 2 levels below dev\.example\.com/.test(w)), warnings[0]);

      const text = await readFile(f.configPath, 'utf8');
      const doc = parse(text) as Record<string, unknown>;
      assert.equal(doc.tunnel, f.tunnelId);
      assert.equal(doc['credentials-file'], `/etc/cloudflared/${f.tunnelId}.json`);
      assert.deepEqual(doc.originRequest, { connectTimeout: '30s' });
      assert.equal(doc.metrics, '127.0.0.1:20241');
      const ingress = doc.ingress as Rule[];
      assert.equal(ingress.length, 62, '60 routes + the hand-written rule + catch-all');
      assert.deepEqual(ingress.at(-1), { service: 'http_status:404' });
      assert.ok(ingress.some((r) => r.hostname === 'legacy.example.com' && r.service === 'http://localhost:8080'), 'hand-written rule kept');
      const svc1 = ingress.find((r) => r.hostname === 'svc1.api.dev.example.com');
      assert.match(svc1?.service ?? '', /^http:\/\/localhost:200\d\d$/);
      assert.equal(new Set(ingress.map((r) => r.hostname)).size, 62);

      // Every hostname got its proxied CNAME to the tunnel, in the zone with the longest suffix.
      const target = `${f.tunnelId}.cfargotunnel.com`;
      const root = f.fake.records(f.zones.root.id).filter((r) => r.content === target);
      const dev = f.fake.records(f.zones.dev.id).filter((r) => r.content === target);
      assert.equal(root.length, 30);
      assert.equal(dev.length, 30);
      assert.ok(dev.every((r) => r.proxied && r.name.endsWith('.api.dev.example.com')));

      const before = await stat(f.configPath);
      f.fake.resetCalls();
      const second = await f.invoke('sync_tunnel', {});
      assert.equal(second.changed, false);
      assert.equal(second.written, false);
      assert.equal(second.restarted, false);
      assert.equal(await f.restarts(), 1, 'no restart when nothing changed');
      const afterStat = await stat(f.configPath);
      assert.equal(afterStat.mtimeMs, before.mtimeMs);
      assert.equal(afterStat.ino, before.ino);
      assert.equal(f.fake.calls.filter((c) => c.method !== 'GET').length, 0, 'no DNS writes either');
      assert.equal((second.dns as { plan: { unchanged: number } }).plan.unchanged, 60);
    });

    test('dryRun shows the plan and changes nothing', async () => {
      await f.services.ports.allocate(admin, { project: 'web', service: 'extra', hostname: 'extra.example.com' });
      const text = await readFile(f.configPath, 'utf8');
      const plan = await f.invoke('sync_tunnel', { dryRun: true });
      assert.deepEqual((plan.routes as { add: Rule[] }).add.map((r) => r.hostname), ['extra.example.com']);
      assert.equal(plan.changed, true);
      assert.equal(plan.written, false);
      assert.deepEqual((plan.dns as { plan: { create: Array<{ name: string }> } }).plan.create.map((r) => r.name), ['extra.example.com']);
      assert.equal(await readFile(f.configPath, 'utf8'), text);
      assert.equal(f.fake.records(f.zones.root.id).some((r) => r.name === 'extra.example.com'), false);
    });

    test('a failing restart command restores the previous file and reports the failure', async () => {
      const previous = await readFile(f.configPath, 'utf8');
      const failing = await openCloudflareFixture(backend, { restartCommand: 'echo cloudflared refused >&2; exit 3' });
      try {
        const original = await readFile(failing.configPath, 'utf8');
        await addProject(failing.services, 'test', { name: 'web', range: { start: 20000, end: 20099 } });
        await failing.services.ports.allocate(admin, { project: 'web', service: 'api', hostname: 'api.example.com' });
        await assert.rejects(failing.invoke('sync_tunnel', {}), (err: Error & { code?: string }) => {
          assert.equal(err.code, 'unavailable');
          assert.match(err.message, /exit(ed)? (with )?(code )?3|code 3/i);
          assert.match(err.message, /cloudflared refused/);
          return true;
        });
        assert.equal(await readFile(failing.configPath, 'utf8'), original, 'previous config restored byte for byte');
        const changes = await failing.services.cloudflare.changes.list({ limit: 10 });
        assert.equal(changes[0]?.action, 'tunnel.write');
        assert.equal(changes[0]?.outcome, 'error');
        // The rule was not recorded as ours: a later successful sync still sees it as new.
        const retry = await failing.invoke('sync_tunnel', { dryRun: true });
        assert.deepEqual((retry.routes as { add: Rule[] }).add.map((r) => r.hostname), ['api.example.com']);
      } finally {
        await failing.close();
      }
      assert.equal(await readFile(f.configPath, 'utf8'), previous);
    });

    test('add_tunnel_route: wildcard and path routes, ordered exact before wildcard, deeper wildcard first', async () => {
      await f.invoke('add_tunnel_route', { hostname: '*.example.com', port: 20090 });
      await f.invoke('add_tunnel_route', { hostname: '*.api.dev.example.com', service: 'http://localhost:20091' });
      const added = await f.invoke('add_tunnel_route', { hostname: 'Docs.Example.com.', service: 'http://localhost:20092', path: '^/v2/' });
      assert.equal(added.created, true);
      const ingress = await fileIngress(f);
      const names = ingress.map((r) => r.hostname ?? '');
      const wildDeep = names.indexOf('*.api.dev.example.com');
      const wildBroad = names.indexOf('*.example.com');
      const lastExact = Math.max(...names.map((n, i) => (n !== '' && !n.startsWith('*') ? i : -1)));
      assert.ok(lastExact < wildDeep && wildDeep < wildBroad, `order: ${names.join(', ')}`);
      assert.deepEqual(ingress.find((r) => r.hostname === 'docs.example.com'), { hostname: 'docs.example.com', path: '^/v2/', service: 'http://localhost:20092' });
      const wildcardCname = f.fake.records(f.zones.root.id).find((r) => r.name === '*.example.com');
      assert.equal(wildcardCname?.content, `${f.tunnelId}.cfargotunnel.com`);

      const again = await f.invoke('add_tunnel_route', { hostname: '*.example.com', port: 20090 });
      assert.equal(again.created, false);
      assert.equal(again.changed, false);
    });

    test('a hand-written rule for the same hostname is not overwritten without force', async () => {
      await assert.rejects(f.invoke('add_tunnel_route', { hostname: 'legacy.example.com', port: 20093 }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'conflict');
        assert.match(err.message, /http:\/\/localhost:8080/);
        return true;
      });
      assert.ok((await fileIngress(f)).some((r) => r.hostname === 'legacy.example.com' && r.service === 'http://localhost:8080'));
      const routes = await f.invoke('list_tunnel_routes', {});
      assert.equal((routes.items as Rule[]).some((r) => r.hostname === 'legacy.example.com'), false, 'refused route not stored');
    });

    test('an allocation whose hostname a hand-written rule routes: the sync leaves the rule and says how to replace it', async () => {
      await f.services.ports.allocate(admin, { project: 'web', service: 'legacy-grab', hostname: 'legacy.example.com' });
      const plan = await f.invoke('sync_tunnel', { dryRun: true });
      assert.equal(plan.ok, false);
      assert.ok((plan.warnings as string[]).includes('legacy.example.com: a rule not made by the supervisor routes it elsewhere and is left as it is; sync with force to replace it'), JSON.stringify(plan.warnings));
      await f.services.ports.release(admin, { project: 'web', service: 'legacy-grab' });
    });

    test('remove_tunnel_route drops the rule and its CNAME; a released allocation loses both at the next sync', async () => {
      const removed = await f.invoke('remove_tunnel_route', { hostname: '*.example.com' });
      assert.equal(removed.removed, true);
      assert.equal((await fileIngress(f)).some((r) => r.hostname === '*.example.com'), false);
      assert.equal(f.fake.records(f.zones.root.id).some((r) => r.name === '*.example.com'), false);

      await f.services.ports.release(admin, { project: 'web', service: 's0' });
      const synced = await f.invoke('sync_tunnel', {});
      assert.deepEqual((synced.routes as { remove: Rule[] }).remove.map((r) => r.hostname), ['svc0.example.com']);
      assert.equal((await fileIngress(f)).some((r) => r.hostname === 'svc0.example.com'), false, 'released allocation leaves the ingress');
      assert.equal(f.fake.records(f.zones.root.id).some((r) => r.name === 'svc0.example.com'), false, 'and its CNAME goes with it');
    });

    test('cloudflare_gc lists our tunnel CNAMEs that nothing routes (kept with keepDns) and deletes them with apply', async () => {
      await f.invoke('add_tunnel_route', { hostname: 'gc.example.com', port: 20094 });
      await f.invoke('remove_tunnel_route', { hostname: 'gc.example.com', keepDns: true });
      assert.ok(f.fake.records(f.zones.root.id).some((r) => r.name === 'gc.example.com'), 'keepDns kept the record');
      // Someone else's CNAME to the same tunnel is never an orphan of ours.
      f.fake.addRecord(f.zones.root.id, { type: 'CNAME', name: 'theirs.example.com', content: `${f.tunnelId}.cfargotunnel.com`, proxied: true });
      const listed = await f.invoke('prune_tunnel_dns', {});
      assert.deepEqual((listed.orphans as Array<{ name: string }>).map((o) => o.name), ['gc.example.com']);
      assert.ok(f.fake.records(f.zones.root.id).some((r) => r.name === 'gc.example.com'), 'gc without apply deletes nothing');
      const applied = await f.invoke('prune_tunnel_dns', { apply: true });
      assert.equal(applied.applied, true);
      assert.equal(f.fake.records(f.zones.root.id).some((r) => r.name === 'gc.example.com'), false);
      assert.ok(f.fake.records(f.zones.root.id).some((r) => r.name === 'theirs.example.com'));
      assert.deepEqual((await f.invoke('prune_tunnel_dns', {})).orphans, []);
      const nothing = await f.invoke('prune_tunnel_dns', { apply: true });
      assert.deepEqual([nothing.orphans, nothing.applied], [[], true], 'nothing left to delete is still an applied run, not a dry one');
    });

    test('import_cloudflare adopts hand-written rules and reads the zones without any write to Cloudflare', async () => {
      f.fake.resetCalls();
      const dry = await f.invoke('import_cloudflare', { dryRun: true });
      assert.deepEqual((dry.routes as Rule[]).map((r) => r.hostname), ['legacy.example.com']);
      const done = await f.invoke('import_cloudflare', {});
      assert.deepEqual((done.routes as Rule[]).map((r) => r.hostname), ['legacy.example.com']);
      assert.equal(f.fake.calls.filter((c) => c.method !== 'GET').length, 0);
      const { rows } = await f.services.db.query<{ n: number }>('SELECT count(*)::int AS n FROM dns_records');
      assert.equal(rows[0]!.n, f.fake.records(f.zones.root.id).length + f.fake.records(f.zones.dev.id).length);
      const routes = (await f.invoke('list_tunnel_routes', { limit: 200 })).items as Array<Rule & { source: string }>;
      assert.equal(routes.find((r) => r.hostname === 'legacy.example.com')?.source, 'imported');
      // Now ours: removing it takes it out of the file.
      await f.invoke('remove_tunnel_route', { hostname: 'legacy.example.com', keepDns: true });
      assert.equal((await fileIngress(f)).some((r) => r.hostname === 'legacy.example.com'), false);
    });
  });

  describe(`tunnel sync, config.yml running another tunnel than cloudflareTunnelId (${backend})`, { skip: await skipReason(backend) }, () => {
    const other = '11111111-2222-3333-4444-555555555555';
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { config: INITIAL_CONFIG(other) });
    });
    after(() => f?.close());

    test('every sync warns that the CNAMEs point at one tunnel while cloudflared serves the other, and how to make them one', async () => {
      for (const dryRun of [true, false]) {
        const answer = await f.invoke('sync_tunnel', { dryRun });
        const warnings = answer.warnings as string[];
        assert.ok(
          warnings.includes(`${f.configPath} runs tunnel ${other}, but cloudflareTunnelId is ${f.tunnelId}: the CNAMEs point at ${f.tunnelId} while cloudflared serves ${other}; make them the same (\`supervisor config set cloudflareTunnelId ${other}\`, or fix the file's tunnel: line)`),
          JSON.stringify(warnings),
        );
      }
    });
  });

  describe(`tunnel sync, remote mode on a locally managed tunnel (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { mode: 'remote', config: null, tunnelSource: 'local' });
    });
    after(() => f.close());

    test('refused, pointing at local mode, and nothing is PUT: its host would not serve the configuration', async () => {
      await addProject(f.services, 'test', { name: 'web', range: { start: 20000, end: 20099 } });
      await f.services.ports.allocate(admin, { project: 'web', service: 'api', hostname: 'api.example.com' });
      f.fake.resetCalls();
      await assertRejects(f.invoke('sync_tunnel', {}), 'not_configured', /tunnel mode: tunnel \S+ is managed locally .*cloudflareTunnelMode local/);
      assert.equal(calls(f, 'PUT', '/configurations'), 0);
      assert.equal(f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId), undefined);
    });
  });

  describe(`tunnel sync, remote-managed (${backend})`, { skip: await skipReason(backend) }, () => {
    let f: CloudflareFixture;
    before(async () => {
      f = await openCloudflareFixture(backend, { mode: 'remote', config: null });
    });
    after(() => f.close());

    test('60 routes → exactly one PUT; second sync → zero PUTs', async () => {
      await sixtyRoutes(f);
      f.fake.resetCalls();
      const first = await f.invoke('sync_tunnel', {});
      assert.equal(first.mode, 'remote');
      assert.equal(calls(f, 'PUT', '/configurations'), 1);
      const stored = f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId);
      assert.equal(stored?.config.ingress.length, 61);
      assert.deepEqual(stored?.config.ingress.at(-1), { service: 'http_status:404' });

      f.fake.resetCalls();
      const second = await f.invoke('sync_tunnel', {});
      assert.equal(second.changed, false);
      assert.equal(calls(f, 'PUT', '/configurations'), 0);
      assert.equal(f.fake.calls.filter((c) => c.method !== 'GET').length, 0);
    });

    test('a rule added in the dashboard is kept by the next sync', async () => {
      const current = f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId)!.config;
      const handMade = { hostname: 'dash.example.com', service: 'http://localhost:9999' };
      await f.services.cloudflare.client.putTunnelConfig('acc0000000000000000000000000000a', f.tunnelId, { ...current, ingress: [handMade, ...current.ingress] });
      await f.services.ports.allocate(admin, { project: 'web', service: 'late', hostname: 'late.example.com' });
      await f.invoke('sync_tunnel', {});
      const ingress = f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId)!.config.ingress;
      assert.ok(ingress.some((r) => r.hostname === 'dash.example.com' && r.service === 'http://localhost:9999'));
      assert.ok(ingress.some((r) => r.hostname === 'late.example.com'));
    });

    test('a write that only puts the rules in order says so in the plan and the answer', async () => {
      const current = f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId)!.config;
      // A hand-written hostname last, after names it sorts before: out of the order a sync keeps.
      const body = current.ingress.slice(0, -1);
      await f.services.cloudflare.client.putTunnelConfig('acc0000000000000000000000000000a', f.tunnelId, { ...current, ingress: [...body, { hostname: 'aaa.example.com', service: 'http://localhost:7171' }, current.ingress.at(-1)!] });
      const plan = await f.invoke('sync_tunnel', { dryRun: true });
      const routes = plan.routes as { add: unknown[]; remove: unknown[]; change: unknown[] };
      assert.deepEqual([plan.changed, routes.add, routes.remove, routes.change], [true, [], [], []]);
      assert.ok((plan.warnings as string[]).some((w) => /^the ingress is written though no route changes: its rules are put in the order every sync keeps/.test(w)), JSON.stringify(plan.warnings));
      const done = await f.invoke('sync_tunnel', {});
      assert.equal(done.written, true);
      assert.equal((await f.invoke('sync_tunnel', { dryRun: true })).changed, false, 'in order once written');
    });

    test('removing an imported route whose CNAME the supervisor did not make: the route goes, the CNAME stays, and that is said, not failed', async () => {
      const current = f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId)!.config;
      await f.services.cloudflare.client.putTunnelConfig('acc0000000000000000000000000000a', f.tunnelId, { ...current, ingress: [{ hostname: 'handmade.example.com', service: 'http://localhost:7070' }, ...current.ingress] });
      f.fake.addRecord(f.zones.root.id, { type: 'CNAME', name: 'handmade.example.com', content: `${f.tunnelId}.cfargotunnel.com`, proxied: true });
      await f.invoke('import_cloudflare', {});
      const removed = await f.invoke('remove_tunnel_route', { hostname: 'handmade.example.com' });
      assert.equal(removed.ok, true, JSON.stringify(removed.dns));
      assert.deepEqual((removed.dns as { plan: { conflicts: unknown[] } }).plan.conflicts, []);
      assert.deepEqual(removed.warnings, [
        `CNAME handmade.example.com → ${f.tunnelId}.cfargotunnel.com was not made by the supervisor, so it stays; \`supervisor dns delete handmade.example.com --type CNAME --force\` (delete_dns_record with force) removes it`,
      ]);
      assert.equal(f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId)!.config.ingress.some((r) => r.hostname === 'handmade.example.com'), false);
      assert.equal(f.fake.records(f.zones.root.id).filter((r) => r.name === 'handmade.example.com').length, 1);
    });

    test("a rule's originRequest survives its import and every sync after, a service change included", async () => {
      const current = f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId)!.config;
      const grafana = { hostname: 'grafana.example.com', service: 'https://localhost:3443', originRequest: { noTLSVerify: true, connectTimeout: '10s' } };
      await f.services.cloudflare.client.putTunnelConfig('acc0000000000000000000000000000a', f.tunnelId, { ...current, ingress: [grafana, ...current.ingress] });
      await f.invoke('import_cloudflare', {});
      const plan = await f.invoke('sync_tunnel', { dryRun: true });
      assert.deepEqual((plan.routes as { change: unknown[] }).change, [], 'nothing to change');
      await f.invoke('sync_tunnel', {});
      await f.invoke('add_tunnel_route', { hostname: 'grafana.example.com', service: 'https://localhost:3444' });
      const rule = f.fake.tunnelConfig('acc0000000000000000000000000000a', f.tunnelId)!.config.ingress.find((r) => r.hostname === 'grafana.example.com');
      assert.deepEqual(rule, { ...grafana, service: 'https://localhost:3444' });
    });
  });
}

test('list_tunnel_routes says what each route wants apart from what is applied', async () => {
  const f = await openCloudflareFixture('pglite');
  type Listed = { hostname: string; dnsWanted: boolean; applied: { ingress: boolean; dns: boolean } };
  const listed = async () => new Map(((await f.invoke('list_tunnel_routes', {})).items as Listed[]).map((r) => [r.hostname, [r.dnsWanted, r.applied.ingress, r.applied.dns]]));
  try {
    await addProject(f.services, 'test', { name: 'two', range: { start: 21100, end: 21109 } });
    await f.services.ports.allocate(admin, { project: 'two', service: 'api', hostname: 'api.consilio.example.com' });
    assert.deepEqual(await listed(), new Map([['api.consilio.example.com', [true, false, false]]]), 'wanted, nothing written yet');

    // A sync whose DNS writes are refused (a token that may only read them): the ingress is written, the record is not.
    f.fake.addToken('cf-readonly-token-000000000000000', ['zone:read', 'dns:read']);
    const useToken = async (value: string) => {
      await f.services.secrets.set(admin, { path: 'meta/cloudflare/api_token', value });
      f.services.clock.advance(60_000);
    };
    await useToken('cf-readonly-token-000000000000000');
    await assert.rejects(f.invoke('sync_tunnel', {}));
    await useToken(TOKEN);
    assert.deepEqual(await listed(), new Map([['api.consilio.example.com', [true, true, false]]]), 'the record was never written');

    await f.invoke('sync_tunnel', {});
    await f.invoke('add_tunnel_route', { hostname: 'nodns.example.com', port: 21101, dns: false });
    assert.deepEqual(
      await listed(),
      new Map([
        ['api.consilio.example.com', [true, true, true]],
        ['nodns.example.com', [false, true, false]],
      ]),
    );
  } finally {
    await f.close();
  }
});

test('a sync keeps the previous config.yml as config.yml.bak', async () => {
  const f = await openCloudflareFixture('pglite');
  try {
    await addProject(f.services, 'test', { name: 'one', range: { start: 21000, end: 21009 } });
    await f.services.ports.allocate(admin, { project: 'one', service: 'api', hostname: 'one.example.com' });
    await f.invoke('sync_tunnel', {});
    assert.match(await readFile(f.configPath, 'utf8'), /one\.example\.com/);
    assert.match(await readFile(`${f.configPath}.bak`, 'utf8'), /legacy\.example\.com/);
  } finally {
    await f.close();
  }
});

test('a hostname outside the managed zones: the others still sync, it is routed with a warning, and an explicit route for it with DNS is refused before anything is written', async () => {
  const f = await openCloudflareFixture('pglite');
  try {
    await addProject(f.services, 'test', { name: 'ext', range: { start: 21200, end: 21209 } });
    await f.services.ports.allocate(admin, { project: 'ext', service: 'out', hostname: 'ext.notmyzone.org' });
    await f.services.ports.allocate(admin, { project: 'ext', service: 'in', hostname: 'in.example.com' });
    const synced = await f.invoke('sync_tunnel', {});
    assert.equal(synced.ok, true, 'a warning, not a conflict');
    assert.ok((await fileIngress(f)).some((r) => r.hostname === 'ext.notmyzone.org'), 'routed by the tunnel');
    assert.equal(f.fake.records(f.zones.root.id).find((r) => r.name === 'in.example.com')?.content, `${f.tunnelId}.cfargotunnel.com`, 'the other hostname got its CNAME');
    assert.deepEqual(
      (synced.warnings as string[]).filter((w) => w.includes('notmyzone')),
      [`no managed Cloudflare zone holds ext.notmyzone.org: the tunnel routes it, but its CNAME is not made here; point it at ${f.tunnelId}.cfargotunnel.com where its DNS lives, or manage its zone (SUPERVISOR_CLOUDFLARE_ZONES)`],
    );
    assert.equal((await f.invoke('sync_tunnel', { dryRun: true })).changed, false);
    // Listed as not wanting the CNAME no sync makes, rather than as wanting it forever.
    const listed = ((await f.invoke('list_tunnel_routes', {})).items as Array<{ hostname: string; dnsWanted: boolean; applied: { dns: boolean } }>).map((r) => [r.hostname, r.dnsWanted, r.applied.dns]);
    assert.deepEqual(listed.filter(([h]) => h === 'ext.notmyzone.org' || h === 'in.example.com').sort(), [['ext.notmyzone.org', false, false], ['in.example.com', true, true]]);

    const before = await readFile(f.configPath, 'utf8');
    await assert.rejects(f.invoke('add_tunnel_route', { hostname: 'route.notmyzone.org', port: 21201 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'invalid_input');
      assert.match(err.message, /no managed Cloudflare zone holds route\.notmyzone\.org, so its CNAME cannot be made; pass dns: false/);
      return true;
    });
    assert.equal(await readFile(f.configPath, 'utf8'), before, 'config.yml untouched');
    assert.equal(((await f.invoke('list_tunnel_routes', {})).items as Rule[]).some((r) => r.hostname === 'route.notmyzone.org'), false, 'route not stored');

    await f.invoke('add_tunnel_route', { hostname: 'route.notmyzone.org', port: 21201, dns: false });
    assert.equal((await f.invoke('remove_tunnel_route', { hostname: 'route.notmyzone.org' })).removed, true);
    await f.services.ports.release(admin, { project: 'ext', service: 'out' });
    const after = await f.invoke('sync_tunnel', {});
    assert.deepEqual((after.routes as { remove: Rule[] }).remove.map((r) => r.hostname), ['ext.notmyzone.org']);
  } finally {
    await f.close();
  }
});

test("a port allocated with the hostname of a stored route does not take the route over: it is a conflict until the route is removed", async () => {
  const f = await openCloudflareFixture('pglite');
  try {
    await addProject(f.services, 'test', { name: 'grab', range: { start: 21300, end: 21309 } });
    await f.invoke('add_tunnel_route', { hostname: 'ssh.example.com', service: 'ssh://localhost:22' });
    await f.services.ports.allocate(admin, { project: 'grab', service: 'web', hostname: 'ssh.example.com' });
    const synced = await f.invoke('sync_tunnel', {});
    assert.ok((await fileIngress(f)).some((r) => r.hostname === 'ssh.example.com' && r.service === 'ssh://localhost:22'), 'the stored route stays');
    assert.equal(synced.ok, false);
    assert.deepEqual((synced.routes as { conflicts: unknown[] }).conflicts, [
      { hostname: 'ssh.example.com', path: '', wanted: 'http://localhost:21300', existing: 'ssh://localhost:22 (manual route; remove_tunnel_route it to route the port)' },
    ]);

    await f.invoke('remove_tunnel_route', { hostname: 'ssh.example.com', keepDns: true });
    await f.invoke('sync_tunnel', {});
    assert.ok((await fileIngress(f)).some((r) => r.hostname === 'ssh.example.com' && r.service === 'http://localhost:21300'), 'then the port is routed');
  } finally {
    await f.close();
  }
});

test('a port a tunnel still routes to is not handed to another service: a route added by hand, or a released allocation\'s rule until the next sync', async () => {
  const f = await openCloudflareFixture('pglite');
  try {
    await addProject(f.services, 'test', { name: 'claim', range: { start: 21400, end: 21409 } });
    await f.invoke('add_tunnel_route', { hostname: 'docs.example.com', port: 21400 });
    const first = await f.services.ports.allocate(admin, { project: 'claim', service: 'internal' });
    assert.equal(first.port, 21401, 'the hand-made route keeps 21400 from a private service');
    assert.deepEqual(first.skipped.map((s) => [s.port, s.reason]), [[21400, 'traffic is routed to it: manual tunnel route docs.example.com → http://localhost:21400']]);
    // check_port says why too: nothing listens and no allocation holds it, yet it is not free.
    const checked = await f.invoke('check_port', { port: 21400 });
    assert.deepEqual([checked.allocations, checked.listening, checked.routedBy], [[], false, ['manual tunnel route docs.example.com → http://localhost:21400']]);
    assert.deepEqual((await f.invoke('check_port', { port: 21400, protocol: 'udp' })).routedBy, [], 'a tunnel carries tcp only');
    await assert.rejects(
      f.services.ports.allocate(admin, { project: 'claim', service: 'other', preferredPort: 21400 }),
      (err: Error) => /preferredPort 21400 is in use: traffic is routed to it: manual tunnel route docs\.example\.com .*; or free it: remove_tunnel_route a route added by hand/.test(err.message),
    );

    const man = await f.services.ports.allocate(admin, { project: 'claim', service: 'man', hostname: 'man.example.com' });
    await f.invoke('sync_tunnel', {});
    await f.services.ports.release(admin, { project: 'claim', service: 'man' });
    // Until a sync takes its rule out, man.example.com's traffic still reaches the port.
    const next = await f.services.ports.allocate(admin, { project: 'claim', service: 'admin-panel' });
    assert.notEqual(next.port, man.port);
    // The same hostname takes its port back.
    const back = await f.services.ports.allocate(admin, { project: 'claim', service: 'man2', hostname: 'man.example.com', preferredPort: man.port });
    assert.equal(back.port, man.port);
    await f.services.ports.release(admin, { project: 'claim', service: 'man2' });
    await f.invoke('sync_tunnel', {});
    const after = await f.services.ports.allocate(admin, { project: 'claim', service: 'later', preferredPort: man.port });
    assert.equal(after.port, man.port, 'synced away, the port is free again');
  } finally {
    await f.close();
  }
});

test('removing a route that held an allocation back routes the allocation in the same write: its hostname stays up, no conflict', async () => {
  const f = await openCloudflareFixture('pglite');
  try {
    await addProject(f.services, 'test', { name: 'handover', range: { start: 21500, end: 21509 } });
    await f.invoke('add_tunnel_route', { hostname: 'rr.example.com', port: 21509 });
    const a = await f.services.ports.allocate(admin, { project: 'handover', service: 'rr', hostname: 'rr.example.com' });
    assert.equal((await f.invoke('sync_tunnel', {})).ok, false, 'the stored route holds the hostname: a conflict');
    const removed = await f.invoke('remove_tunnel_route', { hostname: 'rr.example.com' });
    assert.equal(removed.ok, true, JSON.stringify(removed.routes));
    assert.deepEqual((removed.routes as { conflicts: unknown[] }).conflicts, []);
    assert.ok((await fileIngress(f)).some((r) => r.hostname === 'rr.example.com' && r.service === `http://localhost:${a.port}`), 'routed to the allocation');
    assert.ok(f.fake.records(f.zones.root.id).some((r) => r.name === 'rr.example.com'), 'its CNAME stays');
    assert.equal((await f.invoke('sync_tunnel', {})).changed, false, 'nothing left for the next sync');
  } finally {
    await f.close();
  }
});
