import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { schemasOf } from '../../src/catalog/json-schema.js';
import { hostname } from 'node:os';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { portOperations } from '../../src/ports/operations.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import {tableCounts} from './fixture.js';
import type { ErrorCode } from '../../src/core/errors.js';
import { isError } from '../helpers/errors.js';

const EXPECTED = ['set_port_range', 'allocate_port', 'get_port', 'list_ports', 'release_port', 'get_port_summary', 'check_port', 'audit_ports', 'import_ports'];

describe('port operations: definitions', () => {
  test('exactly the nine tools, admin only where they change a range', () => {
    assert.deepEqual(portOperations.map((op) => op.name).sort(), [...EXPECTED].sort());
    const admin = portOperations.filter((op) => op.access === 'admin').map((op) => op.name).sort();
    assert.deepEqual(admin, ['set_port_range']);
  });

  test('REST routes and CLI commands are unique, and CLI arguments name input fields', () => {
    assert.equal(new Set(portOperations.map((op) => `${op.rest.method} ${op.rest.path}`)).size, portOperations.length);
    assert.equal(new Set(portOperations.map((op) => op.cli.command.join(' '))).size, portOperations.length);
    for (const op of portOperations) {
      const fields = Object.keys(op.input.shape);
      for (const arg of op.cli.args ?? []) assert.ok(fields.includes(arg), `${op.name}: CLI argument ${arg} is not an input field`);
      assert.equal(schemasOf(op).input.type, 'object', op.name);
    }
  });

  test('every list pages', () => {
    for (const name of ['list_ports', 'get_port_summary']) {
      const op = portOperations.find((o) => o.name === name)!;
      assert.ok('limit' in op.input.shape && 'cursor' in op.input.shape && 'nextCursor' in op.output.shape, name);
    }
  });
});

for (const backend of testBackends()) {
  describe(`port operations through the catalog [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let admin: LocalInvoker;
    let consilio: LocalInvoker;

    before(async () => {
      s = await openTestServices(backend);
      admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      consilio = new LocalInvoker(s, projectPrincipal('consilio', 'token:consilio'), 'internal');
      await admin.invoke('add_project', { project: 'consilio', range: '4000-4099' });
      await admin.invoke('add_project', { project: 'odin', range: '7000-7099' });
    });
    after(() => s.close());

    /** Each bad input: the error code, a message naming the problem, and no row written. */
    const refuses = async (op: string, input: Record<string, unknown>, code: ErrorCode, pattern: RegExp) => {
      const before = await tableCounts(s.db);
      await assert.rejects(admin.invoke(op, input), isError(code, pattern));
      assert.deepEqual(await tableCounts(s.db), before, `${op} ${JSON.stringify(input).slice(0, 80)} wrote something`);
    };

    test("the command recorded for another project's service is shown as its program only (arguments can carry credentials)", async () => {
      const odin = new LocalInvoker(s, projectPrincipal('odin', 'token:odin'), 'internal');
      const line = 'node /srv/consilio/server.js --password=hunter2';
      await consilio.invoke('allocate_port', { project: 'consilio', service: 'recorded', command: line });
      const port = ((await consilio.invoke('get_port', { project: 'consilio', service: 'recorded' })) as { port: number }).port;
      const listed = async (who: LocalInvoker) => ((await who.invoke('list_ports', { project: 'consilio', service: 'recorded' })).items as Array<{ command: string | null }>)[0]!.command;
      const checked = async (who: LocalInvoker) => ((await who.invoke('check_port', { port })).allocations as Array<{ command: string | null }>)[0]!.command;
      assert.deepEqual([await listed(odin), await checked(odin)], ['/srv/consilio/server.js', '/srv/consilio/server.js']);
      assert.deepEqual([await listed(consilio), await checked(consilio), await listed(admin), await checked(admin)], [line, line, line, line]);
      await consilio.invoke('release_port', { project: 'consilio', service: 'recorded' });
    });

    test('a hostname in capitals is the same DNS name, lower-cased as add_tunnel_route takes it, not refused', async () => {
      const web = await admin.invoke('allocate_port', { project: 'odin', service: 'cased', hostname: 'Cased.Odin.Example.COM' });
      assert.equal(web.hostname, 'cased.odin.example.com');
      await assert.rejects(admin.invoke('allocate_port', { project: 'odin', service: 'bad', hostname: 'bad_host.example.com' }), isError('invalid_input', /hostname: a hostname is a DNS name such as api\.example\.com$/));
      // The form DNS tools print, with its final dot, is told how to write it.
      await assert.rejects(admin.invoke('allocate_port', { project: 'odin', service: 'bad', hostname: 'api.odin.example.com.' }), isError('invalid_input', /hostname: a hostname is written without a final dot: api\.example\.com, not api\.example\.com\.$/));
    });

    test('localhost, 127.0.0.1 and this machine\'s name are the local host: one port per service here, never two services on one port', async () => {
      await admin.invoke('add_project', { project: 'hosts', range: '7500-7599' });
      const api = await admin.invoke('get_port', { project: 'hosts', service: 'api' });
      for (const host of ['localhost', '127.0.0.1', hostname().toLowerCase()]) {
        const again = await admin.invoke('get_port', { project: 'hosts', service: 'api', host });
        assert.deepEqual([again.port, again.host, again.created], [api.port, 'local', false], host);
        const other = await admin.invoke('get_port', { project: 'hosts', service: `web-${host.replace(/[^a-z0-9]/g, '')}`, host });
        assert.notEqual(other.port, api.port, host);
      }
      // A VM is another machine, with its own ports.
      assert.equal((await admin.invoke('get_port', { project: 'hosts', service: 'api', host: 'vm-7' })).host, 'vm-7');
    });

    test('a host a new allocation is made on is a machine name or an IPv4 address, or it is refused with the reason', async () => {
      for (const host of ['a..b', 'vm-', '-vm', 'vm-.internal', '.vm', 'vm.']) {
        await refuses('get_port', { project: 'consilio', service: 'api', host }, 'invalid_input', new RegExp(`invalid input for get_port: host: .*${host.replace(/\./g, '\\.')} is not a machine name: each dot-separated part is letters and digits`));
      }
      for (const host of ['1.2.3.999', '0', '10.1', 'vm.123']) {
        await refuses('allocate_port', { project: 'consilio', service: 'api', host }, 'invalid_input', new RegExp(`host: ${host.replace(/\./g, '\\.')} is neither a machine name nor an IPv4 address`));
      }
      await refuses('get_port', { project: 'consilio', service: 'api', host: 'VM_1' }, 'invalid_input', /host: a host is 1-63 characters/);
      for (const host of ['vm-1', 'vm-1.internal', '10.0.0.7', '3vm']) {
        assert.equal((await admin.invoke('get_port', { project: 'consilio', service: 'hosted', host })).host, host);
      }
      // An allocation stored before hosts were checked can still be found and released.
      await s.db.query(`INSERT INTO port_allocations (project, service, host, port, protocol, created_at) VALUES ('consilio', 'old', 'a..b', 4090, 'tcp', now())`);
      assert.equal((await admin.invoke('release_port', { project: 'consilio', service: 'old', host: 'a..b' })).released, true);
    });

    test('ports outside 1-65535 or not integers are refused', async () => {
      for (const preferredPort of [0, 70000, -1, 1.5]) {
        await refuses('allocate_port', { project: 'consilio', service: 'api', preferredPort }, 'invalid_input', /invalid input for allocate_port: preferredPort: /);
      }
      for (const port of [0, 65536, -80]) await refuses('check_port', { port }, 'invalid_input', /port: /);
    });

    test('reversed and out-of-range ranges are refused with the reason', async () => {
      await refuses('add_project', { project: 'rev', range: '5000-4000' }, 'invalid_input', /range: 5000-4000 is reversed.*did you mean 4000-5000/);
      await refuses('add_project', { project: 'rev', range: '0-100' }, 'invalid_input', /range: port 0 is outside 1-65535/);
      await refuses('add_project', { project: 'rev', range: '60000-70000' }, 'invalid_input', /port 70000 is outside/);
      await refuses('set_port_range', { project: 'consilio', range: '4099-4000' }, 'invalid_input', /reversed/);
      await refuses('add_project', { project: 'Bad_Name' }, 'invalid_input', /project: a project name is/);
    });

    test('a 10,000-character service name: a short clear error that does not echo it', async () => {
      const long = 'a'.repeat(10_000);
      const before = await tableCounts(s.db);
      await assert.rejects(admin.invoke('allocate_port', { project: 'consilio', service: long }), (err: Error) => {
        isError('invalid_input', /service: a service name is 1-63 characters/)(err);
        assert.ok(err.message.length < 300, `message is ${err.message.length} characters`);
        return true;
      });
      assert.deepEqual(await tableCounts(s.db), before);
      await refuses('get_port', { project: 'consilio', service: 'Has Spaces' }, 'invalid_input', /service: /);
      await refuses('allocate_port', { project: 'consilio', service: 'web', hostname: 'not a host' }, 'invalid_input', /hostname: /);
    });

    test('an unknown project is not_found, and nothing is written', async () => {
      await refuses('allocate_port', { project: 'nobody', service: 'api' }, 'not_found', /project nobody has no port range/);
      await refuses('release_port', { project: 'nobody', service: 'api' }, 'not_found', /project nobody has no port range/);
      await refuses('set_port_range', { project: 'nobody', size: 200 }, 'not_found', /nobody has no port range/);
      await refuses('set_port_range', { project: 'nobody', range: '20000-20099' }, 'not_found', /no project nobody/);
    });

    test('a project token: no project changes, allocations only in its own project, reads allowed', async () => {
      await assert.rejects(consilio.invoke('add_project', { project: 'mine' }), isError('forbidden', /needs an admin token/));
      await assert.rejects(consilio.invoke('remove_project', { project: 'odin' }), isError('forbidden'));
      await assert.rejects(consilio.invoke('allocate_port', { project: 'odin', service: 'x' }), isError('forbidden', /cannot allocate ports of project odin/));
      await assert.rejects(consilio.invoke('get_port', { project: 'odin', service: 'x' }), isError('forbidden'));
      await assert.rejects(consilio.invoke('import_ports', { project: 'odin' }), isError('forbidden'));
      const mine = await consilio.invoke('get_port', { project: 'consilio', service: 'api' });
      assert.equal(mine.port, 4000);
      assert.ok(((await consilio.invoke('list_ports', {})).items as unknown[]).length >= 1);
    });

    test("a project token names only its own hostnames (its name as a label, not under another project's); an admin's hostname stays when it calls again", async () => {
      for (const hostname of ['consilio.example.com', 'api.consilio.example.com', 'consilio.example.se', 'odin.consilio.example.com']) {
        const got = await consilio.invoke('allocate_port', { project: 'consilio', service: 'site', hostname });
        assert.equal(got.hostname, hostname);
      }
      for (const hostname of ['example.com', 'admin.example.com', 'odin.example.com', 'consilio-api.example.com', 'api.example.consilio', 'consilio.se', 'www.consilio.se', 'consilio.odin.example.com', 'api.consilio.odin.example.com']) {
        const before = await tableCounts(s.db);
        await assert.rejects(
          consilio.invoke('allocate_port', { project: 'consilio', service: 'grab', hostname }),
          isError('forbidden', new RegExp(`^hostname: ${hostname.replaceAll('.', '\\.')} is not one of project consilio's; a project token may name hostnames that carry its project's name as a label left of the domain \\(consilio\\.example\\.com, api\\.consilio\\.example\\.com\\), not under another project's name \\(consilio\\.other\\.example\\.com\\); an admin can allocate any other$`)),
        );
        assert.deepEqual(await tableCounts(s.db), before, `${hostname}: no allocation written`);
      }
      const denied = await s.db.query<{ outcome: string; detail: { hostname: string } }>("SELECT outcome, detail FROM audit_log WHERE action = 'port.allocate' AND target = 'consilio/grab'");
      assert.deepEqual(denied.rows.map((r) => [r.outcome, r.detail.hostname]).at(-1), ['denied', 'api.consilio.odin.example.com']);
      // An admin gives the project a hostname outside its own; the project's deploy, run again, keeps it.
      await admin.invoke('allocate_port', { project: 'consilio', service: 'www', hostname: 'www.example.com' });
      const again = await consilio.invoke('allocate_port', { project: 'consilio', service: 'www', hostname: 'www.example.com', description: 'front page' });
      assert.deepEqual([again.hostname, again.description], ['www.example.com', 'front page']);
      await assert.rejects(consilio.invoke('allocate_port', { project: 'consilio', service: 'www', hostname: 'www2.example.com' }), isError('forbidden'));
      assert.equal((await consilio.invoke('allocate_port', { project: 'consilio', service: 'www', hostname: null })).hostname, null, 'dropping a hostname is always its own call');
    });

    test("a project named after the domain's label gets no hostname of the domain, and takes none from the others", async () => {
      await admin.invoke('add_project', { project: 'example' });
      const example = new LocalInvoker(s, projectPrincipal('example', 'token:example'), 'internal');
      try {
        for (const hostname of ['example.com', 'www.example.com', 'consilio.example.com']) {
          await assert.rejects(example.invoke('allocate_port', { project: 'example', service: 'grab', hostname }), isError('forbidden', /is not one of project example's/), hostname);
        }
        const own = await consilio.invoke('allocate_port', { project: 'consilio', service: 'beside', hostname: 'web.consilio.example.com' });
        assert.equal(own.hostname, 'web.consilio.example.com', "consilio's own hostname stays its own while a project named example exists");
        assert.equal((await example.invoke('allocate_port', { project: 'example', service: 'site', hostname: 'example.example.com' })).hostname, 'example.example.com');
      } finally {
        await admin.invoke('remove_project', { project: 'example', force: true });
      }
    });

    test('every operation answers what its output schema promises', async () => {
      const added = await admin.invoke('add_project', { project: 'flow', description: 'walkthrough' });
      assert.deepEqual([added.notes, added.created], [['port range 3100-3199'], true]);
      assert.equal((await admin.invoke('set_port_range', { project: 'flow', size: 150 })).range, '3100-3249');
      const got = await admin.invoke('get_port', { project: 'flow', service: 'api' });
      assert.deepEqual([got.port, got.created, got.createdAt], [3100, true, '2026-11-23T10:00:00.000Z']);
      const web = await admin.invoke('allocate_port', { project: 'flow', service: 'web', protocol: 'tcp', hostname: 'flow.example.com', description: 'site', command: 'node web.js' });
      assert.deepEqual([web.port, web.hostname], [3101, 'flow.example.com']);
      // null un-publishes the service and clears the others, keeping the port; leaving a field out keeps it.
      const cleared = await admin.invoke('allocate_port', { project: 'flow', service: 'web', hostname: null, command: null });
      assert.deepEqual([cleared.port, cleared.created, cleared.hostname, cleared.command, cleared.description], [3101, false, null, null, 'site']);
      await admin.invoke('allocate_port', { project: 'flow', service: 'web', hostname: 'flow.example.com', command: 'node web.js' });
      const listed = await admin.invoke('list_ports', { project: 'flow' });
      assert.deepEqual((listed.items as Array<{ service: string; status: string }>).map((i) => [i.service, i.status]), [['api', 'unknown'], ['web', 'unknown']]);
      // A project that does not exist is not_found, not an empty list; one without allocations lists none.
      for (const name of ['list_ports', 'get_port_summary']) await assert.rejects(admin.invoke(name, { project: 'flwo' }), isError('not_found', /project flwo has no port range/));
      await admin.invoke('add_project', { project: 'empty' });
      assert.deepEqual((await admin.invoke('list_ports', { project: 'empty' })).items, []);
      const summary = await admin.invoke('get_port_summary', { project: 'flow' });
      assert.deepEqual(summary.items, [{ project: 'flow', range: '3100-3249', size: 150, capacity: 150, used: 2, free: 148, utilization: 1.3 }]);
      const checked = await admin.invoke('check_port', { port: 3101, host: 'local' });
      assert.deepEqual([(checked.project as { project: string }).project, (checked.allocations as Array<{ service: string }>)[0]?.service], ['flow', 'web']);
      const audit = await admin.invoke('audit_ports', { project: 'flow' });
      assert.deepEqual(audit.counts, { ok: 0, down: 2, conflict: 0, unknown: 0 });
      assert.deepEqual(await admin.invoke('import_ports', { project: 'flow' }), { applied: false, adoptions: [], skipped: [] });
      const released = await admin.invoke('release_port', { project: 'flow', service: 'web' });
      assert.deepEqual([released.released, (released.allocation as { port: number }).port], [true, 3101]);
      assert.deepEqual(await admin.invoke('remove_project', { project: 'flow', force: true }), { project: 'flow', removed: true, released: [{ domain: 'ports', count: 1, sample: ['api:3100'] }] });
    });
  });
}
