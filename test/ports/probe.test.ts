import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, symlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import dgram from 'node:dgram';
import { listListeners, parseProcNet, type Listener } from '../../src/ports/probe.js';
import { SupervisorError } from '../../src/core/errors.js';

const HEADER4 =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const HEADER6 =
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

function row4(local: string, state: string, inode: number): string {
  return `   0: ${local} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}
function row6(local: string, state: string, inode: number): string {
  return `   0: ${local} 00000000000000000000000000000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0000000000000000 100 0 0 10 0\n`;
}

describe('parseProcNet', () => {
  test('decodes IPv4 LISTEN rows and ignores other states', () => {
    const text =
      HEADER4 +
      row4('00000000:1F90', '0A', 101) +
      row4('0100007F:0050', '0A', 102) +
      row4('0100007F:D431', '01', 103); // an established connection
    assert.deepEqual(parseProcNet(text, 'tcp', 4), [
      { protocol: 'tcp', family: 4, address: '0.0.0.0', port: 8080, inode: 101 },
      { protocol: 'tcp', family: 4, address: '127.0.0.1', port: 80, inode: 102 },
    ]);
  });

  test('renders IPv6 addresses in compressed form', () => {
    const text =
      HEADER6 +
      row6('00000000000000000000000000000000:01BB', '0A', 201) +
      row6('00000000000000000000000001000000:1F90', '0A', 202) +
      row6('0000000000000000FFFF00000100007F:0050', '0A', 203) +
      row6('000080FE000000000000000001000000:0016', '0A', 204) +
      row6('00000000000000000000000001000000:9C40', '06', 206); // TIME_WAIT
    const got = parseProcNet(text, 'tcp', 6).map((l) => `${l.address} ${l.port} ${l.inode}`);
    assert.deepEqual(got, [':: 443 201', '::1 8080 202', '::ffff:127.0.0.1 80 203', 'fe80::1 22 204']);
  });

  test('picks the first of two equal zero runs', () => {
    const text = HEADER6 + row6('B80D0120000000000000010001000000:0035', '0A', 205);
    assert.equal(parseProcNet(text, 'tcp', 6)[0]?.address, '2001:db8::1:0:0:1');
  });

  test('keeps bound (07) udp sockets only', () => {
    const text = HEADER4 + row4('0100007F:0035', '07', 301) + row4('0100007F:0036', '01', 302);
    assert.deepEqual(parseProcNet(text, 'udp', 4), [
      { protocol: 'udp', family: 4, address: '127.0.0.1', port: 53, inode: 301 },
    ]);
  });

  test('tolerates an empty file and a trailing newline', () => {
    assert.deepEqual(parseProcNet(HEADER4, 'tcp', 4), []);
    assert.deepEqual(parseProcNet('', 'tcp', 4), []);
  });
});

describe('listListeners with a fake /proc', () => {
  let root: string;

  async function addProcess(pid: number, files: { cmdline: string; comm?: string; sockets: number[] }) {
    const dir = join(root, String(pid));
    await mkdir(join(dir, 'fd'), { recursive: true });
    await writeFile(join(dir, 'cmdline'), files.cmdline);
    if (files.comm !== undefined) await writeFile(join(dir, 'comm'), files.comm);
    await symlink('/dev/null', join(dir, 'fd', '0'));
    for (const [i, inode] of files.sockets.entries()) await symlink(`socket:[${inode}]`, join(dir, 'fd', String(i + 3)));
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'probe-'));
    await mkdir(join(root, 'net'));
    await writeFile(
      join(root, 'net', 'tcp'),
      HEADER4 + row4('00000000:1F90', '0A', 12345) + row4('0100007F:0050', '0A', 555) + row4('0100007F:0051', '0A', 999),
    );
    await writeFile(join(root, 'net', 'udp'), HEADER4 + row4('0100007F:0035', '07', 777));
    // No tcp6/udp6: as on a host with IPv6 disabled.
    await addProcess(4242, { cmdline: 'node\0server.js\0--port\x008080\0', sockets: [12345] });
    await addProcess(77, { cmdline: '', comm: 'kdnsd\n', sockets: [777] });
    await addProcess(5000, { cmdline: 'worker\0', sockets: [555] });
    await addProcess(4000, { cmdline: 'master\0', sockets: [555] }); // forked parent shares 555
    await mkdir(join(root, '31337')); // exited mid-scan: no fd dir
    await mkdir(join(root, 'self'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('maps inodes to pids and commands', async () => {
    const byInode = new Map<number, Listener>((await listListeners({ procRoot: root })).map((l) => [l.inode, l]));
    assert.equal(byInode.size, 4);
    assert.deepEqual(byInode.get(12345), {
      protocol: 'tcp', family: 4, address: '0.0.0.0', port: 8080, inode: 12345,
      pid: 4242, command: 'node server.js --port 8080', processes: [{ pid: 4242, command: 'node server.js --port 8080' }],
    });
    assert.equal(byInode.get(777)?.pid, 77);
    assert.equal(byInode.get(777)?.command, 'kdnsd');
    assert.equal(byInode.get(555)?.pid, 4000);
    assert.equal(byInode.get(555)?.command, 'master');
    // A socket a forked worker shares with its parent names both, as `ss -p` does.
    assert.deepEqual(byInode.get(555)?.processes, [{ pid: 4000, command: 'master' }, { pid: 5000, command: 'worker' }]);
    assert.equal(byInode.get(999)?.pid, null);
    assert.equal(byInode.get(999)?.command, null);
    assert.deepEqual(byInode.get(999)?.processes, []);
  });

  test('throws unavailable when net/tcp is missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'probe-empty-'));
    try {
      await assert.rejects(listListeners({ procRoot: empty }), (err: unknown) => {
        assert.ok(err instanceof SupervisorError);
        assert.equal(err.code, 'unavailable');
        assert.match(err.message, /net\/tcp could not be read.*Linux \/proc/);
        return true;
      });
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});

describe('listListeners on this host', () => {
  const tcp4 = net.createServer();
  const tcp6 = net.createServer();
  const udp = dgram.createSocket('udp4');

  function listen(server: net.Server, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
    });
  }

  let ports: { tcp4: number; tcp6: number; udp: number };
  before(async () => {
    const udpPort = new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    ports = { tcp4: await listen(tcp4, '127.0.0.1'), tcp6: await listen(tcp6, '::1'), udp: await udpPort };
  });
  after(async () => {
    await new Promise((resolve) => tcp4.close(resolve));
    await new Promise((resolve) => tcp6.close(resolve));
    await new Promise<void>((resolve) => udp.close(resolve));
  });

  test('finds our own tcp and udp sockets, owned by this process', async () => {
    const listeners = await listListeners();
    const expected = [
      { protocol: 'tcp', family: 4, address: '127.0.0.1', port: ports.tcp4 },
      { protocol: 'tcp', family: 6, address: '::1', port: ports.tcp6 },
      { protocol: 'udp', family: 4, address: '127.0.0.1', port: ports.udp },
    ];
    for (const want of expected) {
      const found = listeners.find(
        (l) => l.protocol === want.protocol && l.family === want.family && l.address === want.address && l.port === want.port,
      );
      assert.ok(found, `missing ${JSON.stringify(want)}`);
      assert.equal(found.pid, process.pid);
      assert.match(found.command ?? '', /node/);
    }
  });
});
