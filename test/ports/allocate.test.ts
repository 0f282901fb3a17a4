import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import type { Listener } from '../../src/ports/probe.js';
import { PortService } from '../../src/ports/service.js';
import { skipReason, testBackends } from '../helpers/db.js';
import {openPorts, tableCounts, TEST_EPHEMERAL, type PortsFixture} from './fixture.js';
import { addProject } from '../helpers/projects.js';
import { isError } from '../helpers/errors.js';

const admin = adminPrincipal('test-admin');
const consilio = projectPrincipal('consilio', 'token:consilio');

/** What the fake probe reports as listening: list_ports' status comes from it. */
let listening: Listener[] = [];
const listener = (port: number, protocol: 'tcp' | 'udp' = 'tcp'): Listener => ({ protocol, family: 4, address: '127.0.0.1', port, inode: port, pid: 1, command: 'x', processes: [{ pid: 1, command: 'x' }] });

for (const backend of testBackends()) {
  describe(`port allocation [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: PortsFixture;
    const allocate = (project: string, service: string, extra: Record<string, unknown> = {}) => f.ports.allocate(admin, { project, service, ...extra });
    before(async () => {
      listening = [];
      f = await openPorts(backend, { policy: { denyList: [5432, 6379] }, listeners: async () => listening });
      for (const [name, start, end] of [['consilio', 4000, 4099], ['tiny', 5430, 5434], ['edge', 32760, 32799], ['odin', 7000, 7999]] as const) {
        await addProject(f, admin.actor, { name, range: { start, end } });
      }
    });
    after(() => f.close());

    test('the same project and service always get the same port', async () => {
      const first = await allocate('consilio', 'api');
      assert.equal(first.port, 4000);
      assert.equal(first.created, true);
      assert.equal(first.host, 'local');
      assert.equal(first.protocol, 'tcp');
      for (let i = 0; i < 3; i++) {
        const again = await f.ports.allocate(admin, { project: 'consilio', service: 'api' });
        assert.equal(again.port, 4000);
        assert.equal(again.created, false);
      }
      assert.equal((await allocate('consilio', 'web')).port, 4001);
    });

    test('another host gets its own allocation, from the same range', async () => {
      const onVm = await allocate('consilio', 'api', { host: 'vm-1' });
      assert.equal(onVm.port, 4000);
      assert.equal(onVm.host, 'vm-1');
      assert.equal((await allocate('consilio', 'api')).port, 4000);
    });

    test('a release that finds nothing says what the project has: a misspelt service, or its port on another host', async () => {
      await allocate('consilio', 'scheduler');
      await allocate('consilio', 'metrics', { host: 'vm-2' });
      const typo = await f.ports.release(admin, { project: 'consilio', service: 'schedular' });
      assert.equal(typo.released, false);
      assert.match(typo.note!, /has no port for schedular .*; did you mean "scheduler"\?$/);
      const otherHost = await f.ports.release(admin, { project: 'consilio', service: 'metrics' });
      assert.match(otherHost.note!, /has no port for metrics on \S+ .*; it has one on vm-2: give that host$/);
      // Nothing was released by either call.
      assert.equal((await f.ports.release(admin, { project: 'consilio', service: 'metrics', host: 'vm-2' })).released, true);
      assert.equal((await f.ports.release(admin, { project: 'consilio', service: 'scheduler' })).released, true);
    });

    test('release frees the port for the next caller; released twice answers false', async () => {
      await allocate('consilio', 'temp');
      const released = await f.ports.release(admin, { project: 'consilio', service: 'temp' });
      assert.equal(released.released, true);
      assert.equal(released.allocation?.port, 4002);
      const twice = await f.ports.release(admin, { project: 'consilio', service: 'temp' });
      assert.deepEqual([twice.released, twice.allocation], [false, null]);
      assert.match(twice.note!, /^consilio has no port for temp on \S+ \(released already, or never allocated\); its services on \S+: api, web$/);
      assert.equal((await allocate('consilio', 'worker')).port, 4002);
      const back = await allocate('consilio', 'temp');
      assert.equal(back.port, 4003);
      assert.equal(back.created, true);
      await assert.rejects(f.ports.release(admin, { project: 'nobody', service: 'x' }), isError('not_found', /project nobody has no port range/));
    });

    test('a release for a project that holds no port at all says so once', async () => {
      await addProject(f, admin.actor, { name: 'empty', range: { start: 8100, end: 8109 } });
      const none = await f.ports.release(admin, { project: 'empty', service: 'web' });
      assert.deepEqual([none.released, none.note], [false, 'empty has no port on any host: nothing to release for web (released already, or never allocated)']);
      await f.projects.remove(admin.actor, { name: 'empty', force: true });
    });

    test('deny-listed ports are never handed out; exhaustion names project, range, utilization and the fix', async () => {
      const got = [];
      for (const s of ['a', 'b', 'c', 'd']) got.push((await allocate('tiny', s)).port);
      assert.deepEqual(got, [5430, 5431, 5433, 5434]);
      const before = await tableCounts(f.db);
      await assert.rejects(
        allocate('tiny', 'e'),
        isError('conflict', /project tiny has no free port on host local: range 5430-5434 is 100% used \(4 of 4 usable ports\).*supervisor port range tiny --size/),
      );
      assert.deepEqual(await tableCounts(f.db), before);
    });

    test('ports in the ephemeral range are never handed out', async () => {
      const got = [];
      for (let i = 0; i < 8; i++) got.push((await allocate('edge', `s${i}`)).port);
      assert.deepEqual(got, [32760, 32761, 32762, 32763, 32764, 32765, 32766, 32767]);
      await assert.rejects(allocate('edge', 'more'), isError('conflict', /range 32760-32799 is 100% used \(8 of 8 usable ports\)/));
    });

    test('a preferred port is granted when free and in range, refused with the reason otherwise', async () => {
      const pref = await allocate('odin', 'db-admin', { preferredPort: 7500, description: 'pgadmin' });
      assert.equal(pref.port, 7500);
      assert.equal(pref.description, 'pgadmin');
      await assert.rejects(allocate('odin', 'other', { preferredPort: 7500 }), isError('conflict', /port 7500 on host local is allocated to odin\/db-admin/));
      await assert.rejects(allocate('odin', 'other', { preferredPort: 4000 }), isError('invalid_input', /outside project odin's range 7000-7999/));
      await assert.rejects(allocate('tiny', 'pg', { preferredPort: 5432 }), isError('invalid_input', /5432 is on the deny list/));
      await assert.rejects(allocate('edge', 'eph', { preferredPort: 32790 }), isError('invalid_input', /ephemeral range/));
      await assert.rejects(allocate('odin', 'db-admin', { preferredPort: 7501 }), isError('conflict', /already has port 7500; release_port it first/));
    });

    test('udp allocations; a port number serves one service whatever the protocol', async () => {
      const dns = await allocate('odin', 'dns', { protocol: 'udp', preferredPort: 7053 });
      assert.equal(dns.protocol, 'udp');
      await assert.rejects(allocate('odin', 'dns-tcp', { protocol: 'tcp', preferredPort: 7053 }), isError('conflict', /allocated to odin\/dns/));
      await assert.rejects(allocate('odin', 'dns', { protocol: 'tcp' }), isError('conflict', /already has port 7053\/udp/));
      // The tunnel routes http and tcp: a hostname on a udp port would never be routed.
      await assert.rejects(allocate('odin', 'voice', { protocol: 'udp', hostname: 'voice.odin.example.com' }), isError('invalid_input', /^hostname: odin\/voice is a udp port, and a Cloudflare tunnel routes http and tcp only/));
      await assert.rejects(allocate('odin', 'dns', { hostname: 'dns.odin.example.com' }), isError('invalid_input', /^hostname: odin\/dns is a udp port/));
      assert.equal((await allocate('odin', 'dns', {})).hostname, null);
    });

    test('a hostname routes to one port; a repeat call can add or change it', async () => {
      const web = await allocate('odin', 'web', { hostname: 'odin.example.com' });
      assert.equal(web.hostname, 'odin.example.com');
      await assert.rejects(allocate('odin', 'web2', { hostname: 'odin.example.com' }), isError('conflict', /odin.example.com already routes to odin\/web/));
      const api = await allocate('odin', 'api');
      const routed = await allocate('odin', 'api', { hostname: 'api.odin.example.com', command: 'odin-api' });
      assert.equal(routed.port, api.port);
      assert.equal(routed.created, false);
      assert.equal(routed.hostname, 'api.odin.example.com');
      assert.equal(routed.command, 'odin-api');
      await assert.rejects(allocate('odin', 'api', { hostname: 'odin.example.com' }), isError('conflict', /already routes to odin\/web/));
    });

    test('unknown project: not_found and nothing written', async () => {
      const before = await tableCounts(f.db);
      await assert.rejects(allocate('nobody', 'api'), isError('not_found', /project nobody has no port range.*project add nobody/));
      assert.deepEqual(await tableCounts(f.db), before);
    });

    test('a project token allocates and releases only in its own project; refusals are audited', async () => {
      assert.equal((await f.ports.allocate(consilio, { project: 'consilio', service: 'mine' })).project, 'consilio');
      const before = await tableCounts(f.db);
      await assert.rejects(f.ports.allocate(consilio, { project: 'odin', service: 'x' }), isError('forbidden', /belongs to project consilio and cannot allocate ports of project odin/));
      await assert.rejects(f.ports.release(consilio, { project: 'odin', service: 'web' }), isError('forbidden', /cannot release ports of project odin/));
      assert.deepEqual(await tableCounts(f.db), before);
      const denied = await f.audit.list({ actor: 'token:consilio', limit: 10 });
      assert.deepEqual(denied.filter((r) => r.outcome === 'denied').map((r) => [r.action, r.target, r.outcome]), [['port.release', 'odin', 'denied'], ['port.allocate', 'odin', 'denied']]);
    });

    test('allocations and releases are in the audit log', async () => {
      const rows = await f.audit.list({ target: 'consilio/temp', limit: 10 });
      assert.deepEqual(rows.map((r) => [r.action, r.detail.port]), [['port.allocate', 4003], ['port.release', 4002], ['port.allocate', 4002]]);
    });

    test('list filters, pages and (with a probe) reports status', async () => {
      listening = [listener(4000), listener(4001, 'udp')];
      const page1 = await f.ports.list({ project: 'consilio', host: 'local', probe: true, limit: 2 });
      assert.deepEqual(page1.items.map((a) => [a.service, a.port, a.status]), [['api', 4000, 'up'], ['mine', 4004, 'down']]);
      const page2 = await f.ports.list({ project: 'consilio', host: 'local', probe: true, limit: 2, cursor: page1.nextCursor! });
      assert.deepEqual(page2.items.map((a) => [a.service, a.status]), [['temp', 'down'], ['web', 'down']]);
      const page3 = await f.ports.list({ project: 'consilio', host: 'local', probe: true, limit: 2, cursor: page2.nextCursor! });
      assert.deepEqual(page3.items.map((a) => a.service), ['worker']);
      assert.equal(page3.nextCursor, null);
      assert.deepEqual((await f.ports.list({ project: 'consilio', status: 'up', limit: 50 })).items.map((a) => a.service), ['api']);
      assert.deepEqual((await f.ports.list({ service: 'api', limit: 50 })).items.map((a) => `${a.project}/${a.host}/${a.status}`), ['consilio/local/unknown', 'consilio/vm-1/unknown', 'odin/local/unknown']);
      assert.deepEqual((await f.ports.list({ hostname: 'odin.example.com', limit: 50 })).items.map((a) => a.service), ['web']);
    });

    test('summary: range, usable ports, used, free, utilization', async () => {
      const { items } = await f.ports.summary({ limit: 50 });
      const tiny = items.find((s) => s.project === 'tiny')!;
      assert.deepEqual({ ...tiny, range: undefined }, { project: 'tiny', range: undefined, size: 5, capacity: 4, used: 4, free: 0, utilization: 100 });
      const consilioRow = items.find((s) => s.project === 'consilio')!;
      assert.deepEqual([consilioRow.capacity, consilioRow.used, consilioRow.free, consilioRow.utilization], [100, 5, 95, 5]);
      assert.deepEqual(items.map((s) => s.project), ['consilio', 'edge', 'meta', 'odin', 'shared', 'tiny']);
    });

    test('check: owner project, allocations, exclusions, live listeners', async () => {
      listening = [listener(4000)];
      const api = await f.ports.check(admin, { port: 4000 });
      assert.equal(api.project?.project, 'consilio');
      assert.deepEqual(api.allocations.map((a) => a.service), ['api']);
      assert.equal(api.listening, true);
      assert.equal(api.sockets[0]?.pid, 1);
      const denied = await f.ports.check(admin, { port: 5432 });
      assert.deepEqual([denied.project?.project, denied.excluded, denied.listening], ['tiny', 'deny_list', false]);
      const remote = await f.ports.check(admin, { port: 4000, host: 'vm-1' });
      assert.deepEqual([remote.allocations[0]?.host, remote.listening], ['vm-1', null]);
      const nobody = await f.ports.check(admin, { port: 50000 });
      assert.deepEqual([nobody.project, nobody.excluded, nobody.allocations], [null, 'ephemeral', []]);
    });

    test('holes left by releases, a preferred port and a deny-listed port are filled lowest first', async () => {
      await addProject(f, admin.actor, { name: 'holes', range: { start: 6370, end: 6389 } });
      for (const s of ['a', 'b', 'c', 'd', 'e']) await allocate('holes', s);
      assert.equal((await allocate('holes', 'island', { preferredPort: 6385 })).port, 6385);
      await f.ports.release(admin, { project: 'holes', service: 'b' });
      await f.ports.release(admin, { project: 'holes', service: 'd' });
      const got = [];
      for (let i = 0; i < 12; i++) got.push((await allocate('holes', `n${i}`)).port);
      // 6379 is on this fixture's deny list; 6385 is the preferred port's.
      assert.deepEqual(got, [6371, 6373, 6375, 6376, 6377, 6378, 6380, 6381, 6382, 6383, 6384, 6386]);
    });

    test('a port that hand-made rows hold for both protocols is not counted as two', async () => {
      await addProject(f, admin.actor, { name: 'dual', range: { start: 6400, end: 6409 } });
      for (const [service, port, protocol] of [['x-tcp', 6400, 'tcp'], ['x-udp', 6400, 'udp'], ['y', 6402, 'tcp']] as const) {
        await f.db.query('INSERT INTO port_allocations (project, service, port, protocol, created_at) VALUES ($1, $2, $3, $4, $5)', ['dual', service, port, protocol, f.clock.now()]);
      }
      // Three rows up to 6402 look like three ports without a hole; 6401 is free all the same.
      assert.equal((await allocate('dual', 'next')).port, 6401);
      assert.equal((await allocate('dual', 'after')).port, 6403);
    });

    test('each service applies its own exclusions on a shared database', async () => {
      await addProject(f, admin.actor, { name: 'policies', range: { start: 6500, end: 6509 } });
      const strict = new PortService({ db: f.db, clock: f.clock, audit: f.audit, policy: { denyList: [6500, 6501] }, ephemeralRange: async () => TEST_EPHEMERAL });
      assert.equal((await strict.allocate(admin, { project: 'policies', service: 'strict' })).port, 6502);
      assert.equal((await allocate('policies', 'loose')).port, 6500);
      // Called by hand without exclusions, port_allocate excludes nothing (as it did before 0004).
      const { rows } = await f.db.query<{ port: number; created: boolean }>(
        "SELECT port, created FROM port_allocate('policies', 'raw', 'local', 'tcp', NULL, NULL, NULL, NULL, NULL, $1, 'test')",
        [f.clock.now()],
      );
      assert.deepEqual(rows, [{ port: 6501, created: true }]);
    });

    test('concurrent calls in one process: distinct services get distinct ports, one service gets one port', async () => {
      const distinct = await Promise.all(Array.from({ length: 200 }, (_, i) => allocate('odin', `burst-${i}`)));
      assert.equal(new Set(distinct.map((a) => a.port)).size, 200);
      assert.ok(distinct.every((a) => a.port >= 7000 && a.port <= 7999 && a.created));
      const same = await Promise.all(Array.from({ length: 50 }, () => allocate('odin', 'singleton')));
      assert.equal(new Set(same.map((a) => a.port)).size, 1);
      assert.equal(same.filter((a) => a.created).length, 1);
    });

    test("a full range's advice never grows it into the next project's range: up to it, or that it cannot grow", async () => {
      await addProject(f, admin.actor, { name: 'boxed', range: { start: 5600, end: 5601 } });
      await addProject(f, admin.actor, { name: 'gap-after', range: { start: 5610, end: 5619 } });
      await addProject(f, admin.actor, { name: 'squeezed', range: { start: 5620, end: 5621 } });
      await addProject(f, admin.actor, { name: 'right-after', range: { start: 5622, end: 5629 } });
      for (const s of ['a', 'b']) {
        await allocate('boxed', s);
        await allocate('squeezed', s);
      }
      // Room up to 5609: size 10, not the 102 a free space would get.
      await assert.rejects(allocate('boxed', 'c'), isError('conflict', /release a port it no longer needs, or have an admin grow the range: `supervisor port range boxed --size 10` \(set_port_range\)$/));
      const grown = await f.ports.setRange(admin.actor, { project: 'boxed', size: 10 });
      assert.equal(grown.range.end, 5609);
      await assert.rejects(allocate('squeezed', 'c'), isError('conflict', /release a port it no longer needs, or note that the range cannot grow: project right-after's range starts right after it, at 5622$/));
    });
  });
}
