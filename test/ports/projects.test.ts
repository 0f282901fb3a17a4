import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal } from '../../src/core/principal.js';
import { formatRange } from '../../src/ports/range.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openPorts, rejectsWith, tableCounts, type PortsFixture } from './fixture.js';

const admin = adminPrincipal('test-admin');
const actor = admin.actor;

for (const backend of testBackends()) {
  describe(`port projects [${backend}]`, { skip: await skipReason(backend) }, () => {
    let f: PortsFixture;
    before(async () => {
      // Ephemeral range from 3300, so the default grid has to skip it.
      f = await openPorts(backend, { ephemeral: { start: 3300, end: 3399 } });
    });
    after(() => f.close());

    test('meta owns the first block and shared 9000-9099, created on first use', async () => {
      const page = await f.ports.listProjects({ limit: 50 });
      assert.deepEqual(page.items.map((p) => [p.name, formatRange(p.range)]), [['meta', '3000-3099'], ['shared', '9000-9099']]);
    });

    test('default blocks of 100 follow in order and skip the ephemeral range', async () => {
      const a = await f.ports.addProject(actor, { name: 'alpha', description: 'first' });
      const b = await f.ports.addProject(actor, { name: 'bravo' });
      const c = await f.ports.addProject(actor, { name: 'charlie' });
      assert.deepEqual([a, b, c].map((p) => formatRange(p.range)), ['3100-3199', '3200-3299', '3400-3499']);
      assert.equal(a.created, true);
      assert.equal(a.description, 'first');
    });

    test('adding again answers the existing project; another range for it is a conflict', async () => {
      const again = await f.ports.addProject(actor, { name: 'alpha' });
      assert.equal(again.created, false);
      assert.equal(formatRange(again.range), '3100-3199');
      await assert.rejects(f.ports.addProject(actor, { name: 'alpha', range: { start: 5000, end: 5099 } }), rejectsWith('conflict', /already exists with range 3100-3199/));
    });

    test('an explicit range is used as given; an overlapping one is refused naming the owner', async () => {
      const d = await f.ports.addProject(actor, { name: 'delta', range: { start: 4000, end: 4999 } });
      assert.equal(formatRange(d.range), '4000-4999');
      const before = await tableCounts(f.db);
      await assert.rejects(f.ports.addProject(actor, { name: 'echo', range: { start: 4900, end: 5099 } }), rejectsWith('conflict', /4900-5099 for echo overlaps delta \(4000-4999\)/));
      await assert.rejects(f.ports.addProject(actor, { name: 'echo', range: { start: 3050, end: 3050 } }), rejectsWith('conflict', /overlaps meta/));
      assert.deepEqual(await tableCounts(f.db), before);
    });

    test('the database itself refuses overlapping ranges (exclusion constraint)', async () => {
      await assert.rejects(
        f.db.query(`INSERT INTO projects (name, port_range, created_at) VALUES ('sneaky', int4range(4500, 4600, '[]'), now())`),
        (err: { code?: string; constraint?: string }) => err.code === '23P01' && err.constraint === 'projects_ranges_disjoint',
      );
    });

    test('default placement goes around explicit ranges', async () => {
      await f.ports.addProject(actor, { name: 'foxtrot', range: { start: 3500, end: 3549 } });
      const g = await f.ports.addProject(actor, { name: 'golf' });
      assert.equal(formatRange(g.range), '3600-3699');
    });

    test('resize grows into free space, refuses overlaps and orphaned allocations', async () => {
      await f.ports.allocate(admin, { project: 'bravo', service: 'api', preferredPort: 3250 });
      const grown = await f.ports.resizeProject(actor, { name: 'golf', size: 300 });
      assert.equal(formatRange(grown.range), '3600-3899');
      await assert.rejects(f.ports.resizeProject(actor, { name: 'golf', size: 500 }), rejectsWith('conflict', /3600-4099 for golf overlaps delta/));
      await assert.rejects(f.ports.resizeProject(actor, { name: 'bravo', size: 10 }), rejectsWith('conflict', /outside it \(api:3250\)/));
      await assert.rejects(f.ports.resizeProject(actor, { name: 'bravo' }), rejectsWith('invalid_input', /exactly one of size/));
      await assert.rejects(f.ports.resizeProject(actor, { name: 'golf', size: 65535 }), rejectsWith('invalid_input', /past port 65535/));
      await assert.rejects(f.ports.resizeProject(actor, { name: 'nobody', size: 10 }), rejectsWith('not_found', /no project nobody/));
      const moved = await f.ports.resizeProject(actor, { name: 'foxtrot', range: { start: 12000, end: 12099 } });
      assert.equal(formatRange(moved.range), '12000-12099');
    });

    test('remove is refused while ports are allocated, unless forced', async () => {
      await assert.rejects(f.ports.removeProject(actor, { name: 'bravo', force: false }), rejectsWith('conflict', /still has 1 allocated port\(s\) \(api:3250\).*--force/));
      assert.deepEqual(await f.ports.removeProject(actor, { name: 'bravo', force: true }), { project: 'bravo', removed: true, released: 1 });
      assert.deepEqual(await f.ports.removeProject(actor, { name: 'charlie', force: false }), { project: 'charlie', removed: true, released: 0 });
      await assert.rejects(f.ports.removeProject(actor, { name: 'charlie', force: false }), rejectsWith('not_found'));
      await assert.rejects(f.ports.removeProject(actor, { name: 'meta', force: true }), rejectsWith('invalid_input', /built in/));
      // The freed block is the next default one again.
      assert.equal(formatRange((await f.ports.addProject(actor, { name: 'hotel' })).range), '3200-3299');
    });

    test('project changes are in the audit log', async () => {
      const rows = await f.audit.list({ actor, action: 'port.project', limit: 100 });
      const actions = new Set(rows.map((r) => r.action));
      assert.deepEqual([...actions].sort(), ['port.project_add', 'port.project_remove', 'port.project_resize']);
    });

    test('list pages by name', async () => {
      const first = await f.ports.listProjects({ limit: 3 });
      assert.deepEqual(first.items.map((p) => p.name), ['alpha', 'delta', 'foxtrot']);
      const second = await f.ports.listProjects({ limit: 3, cursor: first.nextCursor! });
      assert.deepEqual(second.items.map((p) => p.name), ['golf', 'hotel', 'meta']);
      await assert.rejects(f.ports.listProjects({ limit: 3, cursor: 'not a cursor!' }), rejectsWith('invalid_input', /cursor/));
    });
  });
}
