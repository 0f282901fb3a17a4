import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { listListeners } from '../../src/ports/probe.js';
import type { AuditItem } from '../../src/ports/reconcile.js';
import { skipReason, testBackends } from '../helpers/db.js';
import {openPorts, type PortsFixture} from './fixture.js';
import { addProject } from '../helpers/projects.js';
import { isError } from '../helpers/errors.js';

const admin = adminPrincipal('test-admin');
/** Whole words of this test process's command line, a path's end (node … test/ports/audit.test.ts). */
const OUR_COMMAND = 'ports/audit.test.ts';

function listen(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function bindUdp(port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

/** A block of 100 ports below the ephemeral range with nothing listening on it now. */
async function quietBlock(): Promise<number> {
  const busy = new Set((await listListeners()).map((l) => l.port));
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 120) * 100;
    if (!Array.from({ length: 100 }, (_, i) => base + i).some((p) => busy.has(p))) return base;
  }
}

const find = (items: AuditItem[], port: number) => items.find((i) => i.port === port);

for (const backend of testBackends()) {
  describe(`port audit against real sockets [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: PortsFixture;
    let base: number;
    const ports = { api: 0, web: 0, idle: 0, dns: 0, stray: 0 };
    const open: Array<net.Server | dgram.Socket> = [];

    before(async () => {
      f = await openPorts(backend);
      base = await quietBlock();
      await addProject(f, admin.actor, { name: 'audited', range: { start: base, end: base + 99 } });
      await addProject(f, admin.actor, { name: 'elsewhere' });
      ports.api = (await f.ports.allocate(admin, { project: 'audited', service: 'api', command: OUR_COMMAND })).port;
      ports.web = (await f.ports.allocate(admin, { project: 'audited', service: 'web', command: 'web-server-not-this-process' })).port;
      ports.idle = (await f.ports.allocate(admin, { project: 'audited', service: 'idle' })).port;
      ports.dns = (await f.ports.allocate(admin, { project: 'audited', service: 'dns', protocol: 'udp', command: OUR_COMMAND })).port;
      ports.stray = base + 50;
      open.push(
        await listen(ports.api, '127.0.0.1'),
        await listen(ports.api, '::1'),
        await listen(ports.web, '127.0.0.1'),
        await listen(ports.stray, '::1'),
        await bindUdp(ports.dns),
      );
    });
    after(async () => {
      for (const socket of open) await new Promise<void>((resolve) => socket.close(() => resolve()));
      await f.close();
    });

    test('sorts the real sockets into ok, conflict, down and unknown with pid and command', async () => {
      const report = await f.ports.audit(admin, { limit: 200 });
      const api = find(report.ok, ports.api)!;
      assert.ok(api, `api ${ports.api} not ok: ${JSON.stringify(report)}`);
      assert.deepEqual(api.sockets.map((s) => [s.address, s.family, s.pid]).sort(), [['127.0.0.1', 4, process.pid], ['::1', 6, process.pid]]);
      assert.match(api.sockets[0]!.command ?? '', /audit\.test\.ts/);
      assert.equal(find(report.ok, ports.dns)?.protocol, 'udp');

      const web = find(report.conflict, ports.web)!;
      assert.ok(web, `web ${ports.web} not a conflict`);
      assert.deepEqual([web.service, web.expectedCommand, web.sockets[0]?.pid, web.sockets[0]?.address], ['web', 'web-server-not-this-process', process.pid, '127.0.0.1']);
      assert.match(web.sockets[0]!.command ?? '', /audit\.test\.ts/);

      assert.deepEqual(find(report.down, ports.idle)?.sockets, []);
      const stray = find(report.unknown, ports.stray)!;
      assert.deepEqual([stray.project, stray.service, stray.sockets[0]?.address, stray.sockets[0]?.pid], ['audited', null, '::1', process.pid]);
      assert.equal(report.counts.conflict, report.conflict.length);
      assert.equal(report.truncated, false);
    });

    test('sockets outside every project range are not reported', async () => {
      const outside = await listen(0, '127.0.0.1');
      try {
        const port = (outside.address() as net.AddressInfo).port;
        const report = await f.ports.audit(admin, { limit: 200 });
        for (const group of [report.ok, report.down, report.conflict, report.unknown]) assert.equal(find(group, port), undefined);
      } finally {
        await new Promise((resolve) => outside.close(resolve));
      }
    });

    test('limit cuts each group and says so; counts stay whole', async () => {
      const report = await f.ports.audit(admin, { project: 'audited', limit: 1 });
      assert.equal(report.ok.length, 1);
      assert.equal(report.counts.ok, 2);
      assert.equal(report.truncated, true);
    });

    test('a project token audits its own project only', async () => {
      const own = projectPrincipal('audited', 'token:audited');
      assert.equal((await f.ports.audit(own, { limit: 200 })).project, 'audited');
      await assert.rejects(f.ports.audit(own, { project: 'elsewhere', limit: 200 }), isError('forbidden'));
      await assert.rejects(f.ports.audit(admin, { project: 'nobody', limit: 200 }), isError('not_found'));
    });

    test('check_port and list_ports see the same sockets', async () => {
      const checked = await f.ports.check(admin, { port: ports.api });
      assert.equal(checked.listening, true);
      assert.deepEqual(new Set(checked.sockets.map((s) => s.pid)), new Set([process.pid]));
      assert.equal((await f.ports.check(admin, { port: ports.idle })).listening, false);
      const listed = await f.ports.list({ project: 'audited', probe: true, limit: 50 });
      assert.deepEqual(listed.items.map((a) => [a.service, a.status]), [['api', 'up'], ['dns', 'up'], ['idle', 'down'], ['web', 'up']]);
    });

    test('import: a dry run shows the unknown listener; apply adopts it, and the next audit calls it ok', async () => {
      const dry = await f.ports.importListeners(admin, { project: 'audited', apply: false });
      assert.equal(dry.applied, false);
      const planned = dry.adoptions.find((a) => a.port === ports.stray)!;
      assert.deepEqual([planned.service, planned.command, planned.pid, planned.allocated], [`audit.test-${ports.stray}`, 'test/ports/audit.test.ts', process.pid, false]);
      assert.equal((await f.ports.list({ project: 'audited', limit: 50 })).items.length, 4, 'a dry run writes nothing');

      const applied = await f.ports.importListeners(admin, { project: 'audited', apply: true });
      assert.deepEqual(applied.adoptions.filter((a) => a.port === ports.stray).map((a) => a.allocated), [true]);
      const report = await f.ports.audit(admin, { project: 'audited', limit: 200 });
      assert.equal(find(report.ok, ports.stray)?.service, `audit.test-${ports.stray}`);
      assert.equal(find(report.unknown, ports.stray), undefined);
      assert.deepEqual((await f.ports.importListeners(admin, { project: 'audited', apply: true })).adoptions, [], 'importing again adopts nothing');
    });

    test('where /proc cannot be read the audit fails with the reason instead of reporting nothing', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'no-proc-'));
      const blind = await openPorts(backend, { listeners: () => listListeners({ procRoot: empty }) });
      try {
        await assert.rejects(blind.ports.audit(admin, { limit: 10 }), isError('unavailable', /could not be read; the port audit needs Linux \/proc/));
        await assert.rejects(blind.ports.list({ probe: true, limit: 10 }), isError('unavailable'));
      } finally {
        await blind.close();
        await rm(empty, { recursive: true, force: true });
      }
    });
  });
}
