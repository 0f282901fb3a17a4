import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownerCommand, planAdoptions, serviceNameFor } from '../../src/ports/adopt.js';
import { portVariables } from '../../src/ports/env.js';
import type { Allocation } from '../../src/ports/model.js';
import { Exclusions, LINUX_DEFAULT_EPHEMERAL, readEphemeralRange } from '../../src/ports/policy.js';
import type { Listener } from '../../src/ports/probe.js';
import { parseRange, portRangeInput } from '../../src/ports/range.js';
import { reconcile } from '../../src/ports/reconcile.js';

describe('port ranges', () => {
  test('parse first-last, both ends included', () => {
    assert.deepEqual(parseRange('4000-4999'), { start: 4000, end: 4999 });
    assert.deepEqual(parseRange(' 1 - 65535 '), { start: 1, end: 65535 });
    assert.deepEqual(parseRange('8080-8080'), { start: 8080, end: 8080 });
  });

  test('refuse reversed, out-of-range and malformed text with a reason', () => {
    assert.match(parseRange('4999-4000') as string, /reversed.*did you mean 4000-4999/);
    assert.match(parseRange('0-10') as string, /port 0 is outside 1-65535/);
    assert.match(parseRange('60000-70000') as string, /port 70000 is outside/);
    assert.match(parseRange('-5-10') as string, /not a port range/);
    assert.match(parseRange('4000') as string, /not a port range/);
  });

  test('the zod input turns text into a range and a bad one into an issue', () => {
    assert.deepEqual(portRangeInput.parse('3000-3099'), { start: 3000, end: 3099 });
    const result = portRangeInput.safeParse('5000-4000');
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, /reversed/);
  });
});

describe('exclusions', () => {
  const ex = new Exclusions([5432, 6379, 40000], { start: 32768, end: 60999 });

  test('name why a port is never handed out', () => {
    assert.equal(ex.reason(5432), 'deny_list');
    assert.equal(ex.reason(32768), 'ephemeral');
    assert.equal(ex.reason(60999), 'ephemeral');
    assert.equal(ex.reason(61000), null);
    assert.equal(ex.reason(3000), null);
  });

  test('capacity counts each excluded port once', () => {
    assert.equal(ex.capacity({ start: 5400, end: 5499 }), 99);
    assert.equal(ex.capacity({ start: 32000, end: 32999 }), 768);
    // 40000 is in both the deny list and the ephemeral range.
    assert.equal(ex.capacity({ start: 39990, end: 40009 }), 0);
  });

  test('become one int4multirange literal', () => {
    assert.equal(ex.multirange, '{[5432,5433),[6379,6380),[40000,40001),[32768,61000)}');
  });

  test('the ephemeral range comes from the kernel file, or Linux\'s default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ephemeral-'));
    try {
      await writeFile(join(dir, 'range'), '40000\t50000\n');
      assert.deepEqual(await readEphemeralRange(join(dir, 'range')), { start: 40000, end: 50000 });
      await writeFile(join(dir, 'bad'), 'nonsense\n');
      assert.deepEqual(await readEphemeralRange(join(dir, 'bad')), LINUX_DEFAULT_EPHEMERAL);
      assert.deepEqual(await readEphemeralRange(join(dir, 'missing')), LINUX_DEFAULT_EPHEMERAL);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('import names', () => {
  test('come from the program, or the script an interpreter runs', () => {
    assert.equal(serviceNameFor('node /srv/app/dist/server.js --port 3105', 3105), 'server-3105');
    assert.equal(serviceNameFor('/usr/bin/node --import tsx test/ports/audit.test.ts', 3105), 'audit.test-3105');
    assert.equal(serviceNameFor('/usr/bin/python3.11 -u manage.py runserver', 3106), 'manage-3106');
    assert.equal(serviceNameFor('/opt/Grafana/bin/Grafana-Server web', 3107), 'grafana-server-3107');
    assert.equal(serviceNameFor(null, 3108), 'port-3108');
    assert.match(serviceNameFor('x'.repeat(300), 3109), /^x{50}-3109$/);
  });

  test('the recorded owner is one piece of the command line, without later arguments (they may carry credentials)', () => {
    assert.equal(ownerCommand('node server.js --password=hunter2'), 'server.js');
    assert.equal(ownerCommand('/usr/bin/redis-server *:6379'), '/usr/bin/redis-server');
    assert.equal(ownerCommand('node --inspect'), 'node');
    assert.equal(ownerCommand(null), null);
    // A module, or code on the command line: never an argument after them, which can be a URL with a password.
    assert.equal(ownerCommand('python3 -m srvmod --broker redis://:BrokerPw123@cache.internal:6379/0'), 'srvmod');
    assert.equal(ownerCommand("python3 -c import socket,time;DB='postgres://admin:S3cretPw@db.internal/prod';time.sleep(600)"), 'python3');
    assert.equal(ownerCommand("node -e require('http').createServer().listen(3106) postgres://u:pw@db/x"), 'node');
    assert.equal(ownerCommand('node --require ./tracing.js server.js'), './tracing.js');
    for (const command of ['python3 --opt redis://u:pw@h/0', 'node user:pw@host/x.js', 'ruby token=abc/def.rb']) {
      assert.equal(ownerCommand(command), command.split(' ')[0], `${command}: a word with a credential's shape is never the program`);
    }
  });
});

const allocation = (service: string, port: number, extra: Partial<Allocation> = {}): Allocation => ({
  project: 'demo', service, host: 'local', port, protocol: 'tcp', hostname: null, description: null, command: null, createdAt: new Date(0), ...extra,
});
const listener = (port: number, pid: number | null, command: string | null, extra: Partial<Listener> = {}): Listener => ({
  protocol: 'tcp', family: 4, address: '127.0.0.1', port, inode: port, pid, command, processes: pid === null ? [] : [{ pid, command }], ...extra,
});

describe('reconcile', () => {
  const demo = { project: 'demo', range: { start: 20000, end: 20099 }, createdAt: new Date(0) };

  test('sorts sockets into ok, down, conflict and unknown; ignores ports outside every range', () => {
    const groups = reconcile(
      [allocation('api', 20000, { command: 'api-server' }), allocation('web', 20001, { command: 'web-server' }), allocation('db', 20002), allocation('free', 20003, { command: 'x' })],
      [demo],
      [
        listener(20000, 10, '/usr/bin/api-server --port 20000'),
        listener(20000, 10, '/usr/bin/api-server --port 20000', { family: 6, address: '::1' }),
        listener(20001, 11, 'intruder --listen 20001'),
        listener(20002, 12, 'anything at all'),
        listener(20050, 13, 'stray'),
        listener(20050, 13, 'stray', { protocol: 'udp' }),
        listener(22, 1, 'sshd'),
      ],
    );
    assert.deepEqual(groups.ok.map((i) => [i.service, i.sockets.length]), [['api', 2], ['db', 1]]);
    assert.deepEqual(groups.conflict.map((i) => [i.service, i.expectedCommand, i.sockets[0]!.pid]), [['web', 'web-server', 11]]);
    assert.deepEqual(groups.down.map((i) => i.service), ['free']);
    assert.deepEqual(groups.unknown.map((i) => [i.port, i.protocol, i.service]), [[20050, 'tcp', null], [20050, 'udp', null]]);
  });

  test("a recorded command matches whole words of the owner's command line, never a piece of a word", () => {
    const owner = (command: string, line: string) => reconcile([allocation('web', 20001, { command })], [demo], [listener(20001, 11, line)]).ok.length === 1;
    const line = '/usr/bin/python3 -m http.server 20001 --directory /srv/site';
    for (const command of ['python3', '/usr/bin/python3', 'python3 -m http.server', 'http.server 20001', '-m']) assert.equal(owner(command, line), true, command);
    for (const command of ['e', 'py', 'http', 'server', 'python3 http.server', 'bin/python', '/bin/python3']) assert.equal(owner(command, line), false, command);
    assert.equal(owner('server.js', 'node /srv/app/dist/server.js --port 20001'), true);
    assert.equal(owner('dist/server.js', 'node dist/server.js'), true);
    assert.equal(owner('server.js', 'node /srv/app/dist/my-server.js'), false);
  });

  test('a socket whose process cannot be seen is not called a conflict', () => {
    const groups = reconcile([allocation('api', 20000, { command: 'api-server' })], [demo], [listener(20000, null, null)]);
    assert.equal(groups.ok.length, 1);
    assert.equal(groups.conflict.length, 0);
  });

  test('the import plan adopts each port once and skips excluded ones', () => {
    const { unknown } = reconcile([], [demo], [listener(20050, 13, 'node srv.js'), listener(20050, 13, 'node srv.js', { protocol: 'udp' }), listener(20060, 14, 'pg')]);
    const plan = planAdoptions(unknown, new Exclusions([20060], LINUX_DEFAULT_EPHEMERAL), []);
    assert.deepEqual(plan.adopt.map((a) => [a.service, a.port, a.protocol, a.command, a.pid]), [['srv-20050', 20050, 'tcp', 'srv.js', 13]]);
    assert.deepEqual(plan.skipped.map((s) => [s.port, s.protocol, s.reason]), [[20050, 'udp', 'the same port is adopted for the other protocol'], [20060, 'tcp', 'on the deny list']]);
  });

  test("the daemon's own socket in a range made after it started is named as the daemon, and the import plan leaves it", () => {
    const { unknown } = reconcile([], [demo], [listener(20090, 4242, 'node dist/cli/main.js daemon'), listener(20091, 77, 'node other.js')], { daemon: { port: 20090, pid: 4242 } });
    assert.deepEqual(unknown.map((u) => [u.port, u.reason]), [
      [20090, 'the supervisor daemon itself (pid 4242) listens here; it reserves its own port when it starts: restart it to reserve this one'],
      [20091, null],
    ]);
    const plan = planAdoptions(unknown, new Exclusions([], LINUX_DEFAULT_EPHEMERAL), []);
    assert.deepEqual(plan.adopt.map((a) => a.port), [20091]);
    assert.deepEqual(plan.skipped.map((s) => [s.port, s.reason]), [[20090, unknown[0]!.reason]]);
  });

  test('a listener on a number allocated for the other protocol is skipped by the plan, as the apply would refuse it', () => {
    const groups = reconcile([allocation('metrics', 20080, { protocol: 'udp' })], [demo], [listener(20080, 19, 'node listen.js')]);
    assert.deepEqual(groups.unknown.map((u) => [u.port, u.protocol]), [[20080, 'tcp']]);
    const plan = planAdoptions(groups.unknown, new Exclusions([], LINUX_DEFAULT_EPHEMERAL), [...groups.ok, ...groups.down, ...groups.conflict]);
    assert.deepEqual(plan.adopt, []);
    assert.deepEqual(plan.skipped.map((s) => [s.port, s.protocol, s.reason]), [[20080, 'tcp', 'port 20080 is allocated to demo/metrics for udp, and a port number is held once for tcp and udp']]);
  });

  test('a port two programs listen on (node on 127.0.0.1, python3 on ::1) is not adopted: the audit would call one of them a conflict', () => {
    const { unknown } = reconcile([], [demo], [
      listener(20070, 15, 'node srv.js'),
      listener(20070, 16, 'python3 -m http.server 20070', { family: 6, address: '::1' }),
      // Forked workers of one program are one owner.
      listener(20071, 17, 'node srv.js', { processes: [{ pid: 17, command: 'node srv.js' }, { pid: 18, command: 'node srv.js' }] }),
    ]);
    const plan = planAdoptions(unknown, new Exclusions([], LINUX_DEFAULT_EPHEMERAL), []);
    assert.deepEqual(plan.adopt.map((a) => a.port), [20071]);
    assert.deepEqual(plan.skipped.map((s) => [s.port, s.reason]), [[20070, 'several programs listen on it (srv.js, http.server); stop the one that should not, or allocate the port to the right one with its command (allocate_port)']]);
  });
});

describe('run environment', () => {
  test('PORT for the service being run and <SERVICE>_PORT for every service', () => {
    const env = portVariables([allocation('api', 4001), allocation('web.v2', 4002)], 'web.v2');
    assert.deepEqual(env, { API_PORT: '4001', WEB_V2_PORT: '4002', PORT: '4002' });
    assert.deepEqual(portVariables([allocation('api', 4001)]), { API_PORT: '4001' });
  });
});
