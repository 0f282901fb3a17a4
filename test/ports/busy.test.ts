import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { listListeners } from '../../src/ports/probe.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openPorts, type PortsFixture } from './fixture.js';
import { addProject } from '../helpers/projects.js';
import { isError } from '../helpers/errors.js';

const admin = adminPrincipal('test-admin');
/** Whole words of this test process's command line, a path's end (node … test/ports/busy.test.ts). */
const OUR_COMMAND = 'ports/busy.test.ts';

function listen(port: number, host: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port, host, ipv6Only: host === '::' }, () => resolve(server));
  });
}

function bindUdp(port: number, type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(type);
    socket.once('error', reject);
    socket.bind(port, address, () => resolve(socket));
  });
}

/** A block of 100 ports below the ephemeral range with nothing listening on it now (tcp or udp). */
async function quietBlock(): Promise<number> {
  const busy = new Set((await listListeners()).map((l) => l.port));
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 120) * 100;
    if (!Array.from({ length: 100 }, (_, i) => base + i).some((p) => busy.has(p))) return base;
  }
}

/** A node child running `code`, with an IPC channel. */
const node = (code: string): ChildProcess => spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });

/** A child process given this process's listening socket: both then hold it, as a forked worker does. */
async function shareWithChild(server: net.Server): Promise<ChildProcess> {
  const child = node("process.on('message', (m, handle) => { if (handle) process.send('got'); }); setInterval(() => {}, 1000);");
  await once(child, 'spawn');
  child.send('server', server);
  await once(child, 'message');
  return child;
}

const closeAll = async (open: Array<net.Server | dgram.Socket>) => {
  for (const socket of open.splice(0)) await new Promise<void>((resolve) => socket.close(() => resolve()));
};

for (const backend of testBackends()) {
  describe(`allocation skips ports that are listening now [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: PortsFixture;
    let base: number;
    const open: Array<net.Server | dgram.Socket> = [];

    before(async () => {
      f = await openPorts(backend);
      base = await quietBlock();
      await addProject(f, admin.actor, { name: 'busy', range: { start: base, end: base + 39 } });
      await addProject(f, admin.actor, { name: 'quiet', range: { start: base + 50, end: base + 99 } });
    });
    after(async () => {
      await closeAll(open);
      await f.close();
    });

    test('tcp listeners on 127.0.0.1, ::1 and any address are skipped, and the answer says which and why', async () => {
      open.push(await listen(base, '127.0.0.1'), await listen(base + 1, '::1'), await listen(base + 2, '0.0.0.0'), await listen(base + 3, '::'));
      const got = await f.ports.allocate(admin, { project: 'busy', service: 'api' });
      assert.equal(got.port, base + 4);
      assert.equal(got.created, true);
      assert.deepEqual(got.skipped.map((s) => [s.port, s.protocol]), [[base, 'tcp'], [base + 1, 'tcp'], [base + 2, 'tcp'], [base + 3, 'tcp']]);
      for (const s of got.skipped) {
        assert.deepEqual(s.processes.map((p) => p.pid), [process.pid]);
        assert.match(s.reason, new RegExp(`^listening now \\(tcp on .+\\) by pid ${process.pid} \\(.*busy\\.test`));
      }
      // Asked again: the same port, nothing skipped this time.
      const again = await f.ports.allocate(admin, { project: 'busy', service: 'api' });
      assert.deepEqual([again.port, again.created, again.skipped], [base + 4, false, []]);
      // A free preferred port above busy ones is taken as asked: nothing was passed over.
      const preferred = await f.ports.allocate(admin, { project: 'busy', service: 'admin', preferredPort: base + 9 });
      assert.deepEqual([preferred.port, preferred.skipped], [base + 9, []]);
      await closeAll(open);
    });

    test('udp: a udp allocation skips bound udp ports (IPv4 and IPv6), and a tcp one skips them too: one number per host', async () => {
      const start = base + 50;
      open.push(await bindUdp(start, 'udp4', '127.0.0.1'), await bindUdp(start + 1, 'udp6', '::1'));
      const dns = await f.ports.allocate(admin, { project: 'quiet', service: 'dns', protocol: 'udp' });
      assert.equal(dns.port, start + 2);
      assert.deepEqual(dns.skipped.map((s) => [s.port, s.protocol]), [[start, 'udp'], [start + 1, 'udp']]);
      // The registry holds a number once for tcp and udp: had web taken start, the udp server bound there could never be registered.
      const web = await f.ports.allocate(admin, { project: 'quiet', service: 'web' });
      assert.equal(web.port, start + 3);
      assert.deepEqual(web.skipped.map((s) => [s.port, s.protocol]), [[start, 'udp'], [start + 1, 'udp']]);
      assert.match(web.skipped[0]!.reason, /^listening now \(udp on 127\.0\.0\.1\)/);
      // And a udp allocation skips a tcp listener's number.
      open.push(await listen(start + 4, '127.0.0.1'));
      const metrics = await f.ports.allocate(admin, { project: 'quiet', service: 'metrics', protocol: 'udp' });
      assert.equal(metrics.port, start + 5);
      await closeAll(open);
    });

    test('a busy preferred port is refused with who listens; the same service (its command) may take it back', async () => {
      const port = base + 10;
      open.push(await listen(port, '127.0.0.1'));
      await assert.rejects(
        f.ports.allocate(admin, { project: 'busy', service: 'taken', preferredPort: port }),
        isError('conflict', new RegExp(`preferredPort ${port} is in use: listening now \\(tcp on 127\\.0\\.0\\.1\\) by pid ${process.pid}`)),
      );
      await assert.rejects(
        f.ports.allocate(admin, { project: 'busy', service: 'taken', preferredPort: port, command: 'some-other-program' }),
        isError('conflict', /; command "some-other-program" is not whole words of that process's command line/),
      );
      // A piece of a word of it is not its command either.
      await assert.rejects(f.ports.allocate(admin, { project: 'busy', service: 'taken', preferredPort: port, command: 'e' }), isError('conflict', /command "e" is not whole words/));
      const mine = await f.ports.allocate(admin, { project: 'busy', service: 'taken', preferredPort: port, command: OUR_COMMAND });
      assert.deepEqual([mine.port, mine.created], [port, true]);
      await closeAll(open);
    });

    test('the same service re-allocating gets its port back while it listens on it', async () => {
      const first = await f.ports.allocate(admin, { project: 'busy', service: 'worker' });
      open.push(await listen(first.port, '127.0.0.1'));
      const again = await f.ports.allocate(admin, { project: 'busy', service: 'worker' });
      assert.deepEqual([again.port, again.created], [first.port, false]);
      await closeAll(open);
    });

    test('a range whose free ports all listen is full, and the refusal names the listeners', async () => {
      await addProject(f, admin.actor, { name: 'crowded', range: { start: base + 40, end: base + 41 } });
      await f.ports.allocate(admin, { project: 'crowded', service: 'one' });
      open.push(await listen(base + 41, '127.0.0.1'));
      await assert.rejects(
        f.ports.allocate(admin, { project: 'crowded', service: 'two' }),
        isError('conflict', new RegExp(`no free port on host local: of range ${base + 40}-${base + 41}'s 2 usable ports, 1 is allocated and 1 is in use without an allocation, listened on or routed to by the tunnel \\(${base + 41}\\)`)),
      );
      await closeAll(open);
    });

    test('a socket a forked child shares shows both pids in check_port and audit_ports', async () => {
      const port = base + 20;
      await f.ports.allocate(admin, { project: 'busy', service: 'shared', preferredPort: port, command: 'node' });
      const server = await listen(port, '127.0.0.1');
      open.push(server);
      const child = await shareWithChild(server);
      try {
        const checked = await f.ports.check(admin, { port });
        assert.equal(checked.sockets.length, 1);
        assert.deepEqual(checked.sockets[0]!.processes.map((p) => p.pid), [process.pid, child.pid!].sort((a, b) => a - b));
        const report = await f.ports.audit(admin, { project: 'busy', limit: 200 });
        const item = report.ok.find((i) => i.port === port)!;
        assert.ok(item, JSON.stringify(report));
        assert.deepEqual(new Set(item.sockets[0]!.processes.map((p) => p.pid)), new Set([process.pid, child.pid!]));
      } finally {
        child.kill();
        await closeAll(open);
      }
    });

    test('audit_ports never calls a foreign listener ok: one running long before a command-less allocation is a conflict', async () => {
      // The allocation is made well after this process started (the clock is moved past it), then this process listens.
      f.clock.set(new Date(Date.now() + 10 * 60_000));
      const legacy = await f.ports.allocate(admin, { project: 'busy', service: 'legacy' });
      open.push(await listen(legacy.port, '127.0.0.1'));
      try {
        const report = await f.ports.audit(admin, { project: 'busy', limit: 200 });
        assert.equal(report.ok.find((i) => i.port === legacy.port), undefined, JSON.stringify(report.ok));
        const item = report.conflict.find((i) => i.port === legacy.port)!;
        assert.match(item.reason ?? '', /running before the port was allocated/);
        // A process started after the allocation (a forked child listening) is taken as its owner.
        f.clock.set(new Date(Date.now() - 10 * 60_000));
        const fresh = await f.ports.allocate(admin, { project: 'busy', service: 'fresh' });
        const child = node(`require('net').createServer().listen(${fresh.port}, '127.0.0.1', () => process.send('up'))`);
        try {
          await once(child, 'message');
          const again = await f.ports.audit(admin, { project: 'busy', limit: 200 });
          assert.deepEqual(again.ok.find((i) => i.port === fresh.port)?.sockets.map((s) => s.pid), [child.pid]);
        } finally {
          child.kill();
        }
      } finally {
        await closeAll(open);
      }
    });

    test("the daemon's own port: reserved in the range that holds it; on a port allocated to another service the audit calls it a conflict", async () => {
      const own = base + 30;
      open.push(await listen(own, '127.0.0.1'));
      try {
        const done = await f.ports.reserveDaemonPort('daemon', own);
        assert.deepEqual([done.reserved?.project, done.reserved?.service, done.reserved?.port, done.problem], ['busy', 'supervisor', own, null]);
        const checked = await f.ports.check(admin, { port: own });
        assert.equal(checked.daemon, true);
        assert.deepEqual(checked.allocations.map((a) => `${a.project}/${a.service}`), ['busy/supervisor']);
        const report = await f.ports.audit(admin, { project: 'busy', limit: 200 });
        assert.equal(report.ok.find((i) => i.port === own)?.service, 'supervisor');
        // Restarted on another port: the old reservation, which nothing listens on any more, is released.
        await closeAll(open);
        const taken = await f.ports.allocate(admin, { project: 'busy', service: 'squatter', preferredPort: own + 1 });
        open.push(await listen(taken.port, '127.0.0.1'));
        const moved = await f.ports.reserveDaemonPort('daemon', taken.port);
        assert.deepEqual(moved.released.map((a) => a.port), [own]);
        assert.equal(moved.reserved, null);
        assert.match(moved.problem ?? '', /allocated to busy\/squatter/);
        const audit = await f.ports.audit(admin, { project: 'busy', limit: 200 });
        assert.equal(audit.ok.find((i) => i.port === taken.port), undefined);
        assert.match(audit.conflict.find((i) => i.port === taken.port)?.reason ?? '', /the supervisor daemon \(pid \d+\) listens on this port/);
      } finally {
        await closeAll(open);
      }
    });

    test('two daemons on this host sharing the database: each reserves its own port (the second as supervisor-<port>), kept while it is down', async () => {
      const [first, second] = [base + 60, base + 61];
      open.push(await listen(first, '127.0.0.1'), await listen(second, '127.0.0.1'));
      try {
        assert.equal((await f.ports.reserveDaemonPort('daemon', first)).reserved?.service, 'supervisor');
        const other = await f.ports.reserveDaemonPort('daemon', second);
        assert.deepEqual([other.reserved?.service, other.reserved?.port, other.problem, other.released], [`supervisor-${second}`, second, null, []]);
        // The second daemon stops: its port stays reserved, no service is given it.
        await closeAll(open.splice(1));
        for (let i = 0; i < 8; i++) assert.notEqual((await f.ports.allocate(admin, { project: 'quiet', service: `filler${i}` })).port, second);
        // It starts again on the same port: the same reservation, nothing released.
        open.push(await listen(second, '127.0.0.1'));
        const again = await f.ports.reserveDaemonPort('daemon', second);
        assert.deepEqual([again.reserved?.service, again.released.map((a) => a.port)], [`supervisor-${second}`, []]);
        // The first one is gone for good; the next start of the second releases its reservation and keeps its own.
        await closeAll(open.splice(0, 1));
        const later = await f.ports.reserveDaemonPort('daemon', second);
        assert.deepEqual([later.reserved?.service, later.released.map((a) => `${a.service}:${a.port}`)], [`supervisor-${second}`, [`supervisor:${first}`]]);
      } finally {
        await closeAll(open);
      }
    });

    test('a project token is shown the program of a listening process, never its arguments (they can carry credentials); an admin the whole line', async () => {
      const [port, range] = [base + 42, { start: base + 42, end: base + 44 }];
      await addProject(f, admin.actor, { name: 'argv', range });
      const dir = await mkdtemp(join(tmpdir(), 'ports-argv-'));
      const script = join(dir, 'listener.cjs');
      await writeFile(script, "require('net').createServer().listen(Number(process.argv[3]), '127.0.0.1', () => process.send('up'));");
      const child = spawn(process.execPath, [script, '--db-password=hunter2', String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      try {
        await once(child, 'message');
        const owner = projectPrincipal('argv', 'token:argv');
        const stranger = projectPrincipal('quiet', 'token:quiet');
        const commands = (sockets: Array<{ command: string | null; processes: Array<{ command: string | null }> }>) => sockets.map((s) => [s.command, ...s.processes.map((p) => p.command)]);
        // check_port, by another project's token and by the range's own.
        for (const who of [stranger, owner]) assert.deepEqual(commands((await f.ports.check(who, { port })).sockets), [[script, script]]);
        assert.match((await f.ports.check(admin, { port })).sockets[0]!.command ?? '', /--db-password=hunter2/);
        // audit_ports: the listener is unknown in argv's range.
        const report = await f.ports.audit(owner, { limit: 200 });
        assert.deepEqual(commands(report.unknown.find((i) => i.port === port)!.sockets), [[script, script]]);
        assert.match(JSON.stringify(await f.ports.audit(admin, { project: 'argv', limit: 200 })), /hunter2/);
        // get_port skipping it, and a refused preferredPort, name the program only.
        const got = await f.ports.allocate(owner, { project: 'argv', service: 'api' });
        assert.deepEqual([got.port, got.skipped.map((s) => s.port)], [port + 1, [port]]);
        assert.deepEqual(got.skipped[0]!.processes.map((p) => p.command), [script]);
        assert.ok(got.skipped[0]!.reason.endsWith(`by pid ${child.pid} (${script})`), got.skipped[0]!.reason);
        const refused = await f.ports.allocate(owner, { project: 'argv', service: 'web', preferredPort: port }).then(() => assert.fail('allocated a busy port'), (err: Error) => err.message);
        assert.match(refused, /is in use: listening now/);
        assert.doesNotMatch(refused, /hunter2/);
        // The whole line still decides ownership: the listener's own arguments reclaim its port.
        const reclaimed = await f.ports.allocate(owner, { project: 'argv', service: 'listener', preferredPort: port, command: `${script} --db-password=hunter2` });
        assert.deepEqual([reclaimed.port, reclaimed.created], [port, true]);
        const audited = await f.ports.audit(owner, { limit: 200 });
        assert.deepEqual(commands(audited.ok.find((i) => i.port === port)!.sockets), [[script, script]]);
      } finally {
        child.kill();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
}
