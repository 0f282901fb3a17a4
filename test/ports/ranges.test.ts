import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal } from '../../src/core/principal.js';
import { formatRange } from '../../src/ports/range.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { addProject } from '../helpers/projects.js';
import {openPorts, tableCounts, type PortsFixture} from './fixture.js';
import { isError } from '../helpers/errors.js';

const admin = adminPrincipal('test-admin');
const actor = admin.actor;

for (const backend of testBackends()) {
  describe(`port ranges [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: PortsFixture;
    const add = (name: string, range?: { start: number; end: number }) => addProject(f, actor, { name, range });
    before(async () => {
      // Ephemeral range from 3300, so the default grid has to skip it.
      f = await openPorts(backend, { ephemeral: { start: 3300, end: 3399 } });
    });
    after(() => f.close());

    test('meta owns the first block and shared 9000-9099, created on first start', async () => {
      const page = await f.ports.summary({ limit: 50 });
      assert.deepEqual(page.items.map((p) => [p.project, formatRange(p.range)]), [['meta', '3000-3099'], ['shared', '9000-9099']]);
    });

    test('a new project gets the next default block of 100, skipping the ephemeral range', async () => {
      const [a, b, c] = [await add('alpha'), await add('bravo'), await add('charlie')];
      assert.deepEqual([a, b, c].map((p) => formatRange(p.range)), ['3100-3199', '3200-3299', '3400-3499']);
      const added = await f.projects.add(actor, { name: 'alpha' });
      assert.equal(added.created, false);
    });

    test('adding again with another range is a conflict naming the range it has', async () => {
      await assert.rejects(add('alpha', { start: 5000, end: 5099 }), isError('conflict', /its port range is 3100-3199, not 5000-5099; `set_port_range` changes it/));
    });

    test('an explicit range is used as given; an overlapping one is refused naming the owner, and nothing is added', async () => {
      assert.equal(formatRange((await add('delta', { start: 4000, end: 4999 })).range), '4000-4999');
      const before = await tableCounts(f.db);
      await assert.rejects(add('echo', { start: 4900, end: 5099 }), isError('conflict', /4900-5099 for echo overlaps delta \(4000-4999\)/));
      await assert.rejects(add('echo', { start: 3050, end: 3050 }), isError('conflict', /overlaps meta/));
      assert.deepEqual(await tableCounts(f.db), before);
    });

    test('the database itself refuses overlapping ranges (exclusion constraint)', async () => {
      await f.db.query(`INSERT INTO projects (name, created_at, updated_at) VALUES ('sneaky', now(), now())`);
      await assert.rejects(
        f.db.query(`INSERT INTO port_ranges (project, port_range, created_at) VALUES ('sneaky', int4range(4500, 4600, '[]'), now())`),
        (err: { code?: string; constraint?: string }) => err.code === '23P01' && err.constraint === 'port_ranges_disjoint',
      );
    });

    test('default placement goes around explicit ranges', async () => {
      await add('foxtrot', { start: 3500, end: 3549 });
      assert.equal(formatRange((await add('golf')).range), '3600-3699');
    });

    test('set_port_range grows into free space, refuses overlaps and orphaned allocations', async () => {
      await f.ports.allocate(admin, { project: 'bravo', service: 'api', preferredPort: 3250 });
      const grown = await f.ports.setRange(actor, { project: 'golf', size: 300 });
      assert.equal(formatRange(grown.range), '3600-3899');
      await assert.rejects(f.ports.setRange(actor, { project: 'golf', size: 500 }), isError('conflict', /3600-4099 for golf overlaps delta/));
      await assert.rejects(f.ports.setRange(actor, { project: 'bravo', size: 10 }), isError('conflict', /outside it \(api:3250\)/));
      await assert.rejects(f.ports.setRange(actor, { project: 'bravo' }), isError('invalid_input', /exactly one of size/));
      await assert.rejects(f.ports.setRange(actor, { project: 'golf', size: 65535 }), isError('invalid_input', /past port 65535/));
      await assert.rejects(f.ports.setRange(actor, { project: 'nobody', size: 10 }), isError('not_found', /nobody has no port range/));
      await assert.rejects(f.ports.setRange(actor, { project: 'nobody', range: { start: 20000, end: 20009 } }), isError('not_found', /no project nobody/));
      const moved = await f.ports.setRange(actor, { project: 'foxtrot', range: { start: 12000, end: 12099 } });
      assert.equal(formatRange(moved.range), '12000-12099');
    });

    test('removing a project is refused while it has allocations, unless forced; its block is free again', async () => {
      await assert.rejects(f.projects.remove(actor, { name: 'bravo', force: false }), isError('conflict', /still owns ports: 1 \(api:3250\).*--force/));
      const removed = await f.projects.remove(actor, { name: 'bravo', force: true });
      assert.deepEqual(removed.released, [{ domain: 'ports', what: 'ports', count: 1, sample: ['api:3250'] }]);
      assert.deepEqual((await f.projects.remove(actor, { name: 'charlie', force: false })).released, []);
      await assert.rejects(f.projects.remove(actor, { name: 'charlie', force: false }), isError('not_found'));
      await assert.rejects(f.ports.getRange('bravo'), isError('not_found'));
      assert.equal(formatRange((await add('hotel')).range), '3200-3299');
    });

    test('a range with no usable port is refused; partly ephemeral or denied, it is added and the answer says how many are usable', async () => {
      const before = await tableCounts(f.db);
      // Entirely inside the ephemeral range (3300-3399 here): every allocation would fail with "0 of 0 usable ports".
      await assert.rejects(add('xray', { start: 3310, end: 3359 }), isError('invalid_input', /range 3310-3359 has no port that may be handed out \(3310-3359 are in the OS ephemeral range 3300-3399/));
      // Deny-listed only (5432 is PostgreSQL's).
      await assert.rejects(add('xray', { start: 5432, end: 5432 }), isError('invalid_input', /range 5432-5432 has no port that may be handed out \(5432 is on the deny list\); .*, or omit the range to get the next free block$/));
      assert.deepEqual(await tableCounts(f.db), before, 'nothing added');

      const added = await f.projects.add(actor, { name: 'yankee', options: { portRange: { start: 3390, end: 3409 } } });
      assert.deepEqual(added.notes, ['port range 3390-3409: 10 of 20 ports usable (3390-3399 are in the OS ephemeral range 3300-3399 (local ports of outgoing connections): never handed out)']);
      const got = await f.ports.allocate(admin, { project: 'yankee', service: 'api' });
      assert.equal(got.port, 3400);

      await assert.rejects(f.ports.setRange(actor, { project: 'yankee', range: { start: 3300, end: 3309 } }), isError('invalid_input', /has no port that may be handed out/));
      await f.ports.release(admin, { project: 'yankee', service: 'api' });
      // Setting a range, there is no next free block to take: the way out is moving the range.
      await assert.rejects(f.ports.setRange(actor, { project: 'yankee', size: 10 }), isError('invalid_input', /range 3390-3399 has no port.*, or move the project elsewhere with range first-last$/));
      const moved = await f.ports.setRange(actor, { project: 'yankee', range: { start: 5430, end: 5439 } });
      assert.deepEqual([moved.usable, moved.notes], [9, ['5432 is on the deny list: never handed out']]);
      assert.equal(formatRange((await f.ports.getRange('yankee')).range), '5430-5439');
    });

        test('range changes are in the audit log', async () => {
      const rows = await f.audit.list({ actor, action: 'port.', limit: 100 });
      const actions = new Set(rows.map((r) => r.action));
      for (const action of ['port.range_assign', 'port.range_set', 'port.release_all']) assert.ok(actions.has(action), `${action} in ${[...actions].join(', ')}`);
    });

    test('summary pages by project', async () => {
      const first = await f.ports.summary({ limit: 3 });
      assert.deepEqual(first.items.map((p) => p.project), ['alpha', 'delta', 'foxtrot']);
      const second = await f.ports.summary({ limit: 3, cursor: first.nextCursor! });
      assert.deepEqual(second.items.map((p) => p.project), ['golf', 'hotel', 'meta']);
      await assert.rejects(f.ports.summary({ limit: 3, cursor: 'not a cursor!' }), isError('invalid_input', /cursor/));
    });
  });
}
