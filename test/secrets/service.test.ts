import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { SupervisorError } from '../../src/core/errors.js';
import { encodeCursor } from '../../src/core/page.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { assertRejects, isError } from '../helpers/errors.js';

const admin = adminPrincipal('test-admin');
const consilio = projectPrincipal('consilio', 'token:consilio');
const odin = projectPrincipal('odin', 'token:odin');


for (const backend of testBackends()) {
  describe(`secrets service [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    before(async () => {
      s = await openTestServices(backend);
    });
    after(() => s.close());

    test('set then get returns the value, with version 1 and created', async () => {
      const written = await s.secrets.set(admin, { path: 'project/consilio/database_url', value: 'postgres://u:p@h/db', description: 'main db' });
      assert.equal(written.version, 1);
      assert.equal(written.created, true);
      const read = await s.secrets.get(admin, { path: 'project/consilio/database_url' });
      assert.equal(read.value, 'postgres://u:p@h/db');
      assert.equal(read.version, 1);
      assert.equal(read.description, 'main db');
      assert.equal(read.expired, false);
    });

    test('paths need no registration and unicode values round-trip', async () => {
      const value = 'pä$$ "wörd" \n\t 🔑';
      await s.secrets.set(consilio, { path: 'project/consilio/deep/nested/key', value });
      assert.equal((await s.secrets.get(consilio, { path: 'project/consilio/deep/nested/key' })).value, value);
    });

    test('each write adds a version; old versions stay readable; history lists them newest first', async () => {
      const path = 'project/consilio/api_key';
      const written: Date[] = [];
      for (const v of ['one', 'two', 'three']) {
        written.push(s.clock.now());
        await s.secrets.set(consilio, { path, value: v });
        s.clock.advance(60_000);
      }
      const current = await s.secrets.get(consilio, { path });
      assert.deepEqual([current.value, current.valueChangedAt.getTime()], ['three', written[2]!.getTime()]);
      // An older version comes with the time its value was written, not the current value's.
      const first = await s.secrets.get(consilio, { path, version: 1 });
      assert.deepEqual([first.value, first.version, first.valueChangedAt.getTime()], ['one', 1, written[0]!.getTime()]);
      const history = await s.secrets.history(consilio, { path, limit: 2 });
      assert.deepEqual(history.items.map((h) => h.version), [3, 2]);
      assert.equal(history.items[0]!.current, true);
      const rest = await s.secrets.history(consilio, { path, limit: 2, cursor: history.nextCursor! });
      assert.deepEqual(rest.items.map((h) => h.version), [1]);
      assert.equal(rest.nextCursor, null);
      await assert.rejects(s.secrets.get(consilio, { path, version: 9 }), isError('not_found', /no version 9/));
    });

    test('rollback writes the old value as a new version', async () => {
      const path = 'project/consilio/rolled';
      await s.secrets.set(consilio, { path, value: 'good' });
      await s.secrets.set(consilio, { path, value: 'bad' });
      const rolled = await s.secrets.rollback(consilio, { path, toVersion: 1 });
      assert.equal(rolled.version, 3);
      // Its read of version 1 is in the answer every time (a buffered read once raced the write).
      assert.equal(rolled.readCount, 1);
      assert.notEqual(rolled.lastReadAt, null);
      assert.equal((await s.secrets.get(consilio, { path })).value, 'good');
    });

    test('a rollback puts the old credential back as old as it is: due for rotation from when it was written', async () => {
      const path = 'project/odin/rolled-back';
      const first = await s.secrets.set(admin, { path, value: 'old-credential', rotationIntervalDays: 30 });
      s.clock.advance(40 * 86_400_000);
      await s.secrets.set(admin, { path, value: 'new-credential' });
      s.clock.advance(1000);
      const rolled = await s.secrets.rollback(admin, { path, toVersion: 1 });
      assert.deepEqual([rolled.version, rolled.valueChangedAt.toISOString()], [3, first.valueChangedAt.toISOString()]);
      const due = await s.secrets.due(admin, { withinDays: 0, limit: 50 });
      assert.deepEqual(due.items.find((d) => d.path === path)?.reasons, ['rotation_overdue']);
      // Rolled forward again, the newer credential's age is its own.
      const forward = await s.secrets.rollback(admin, { path, toVersion: 2 });
      assert.equal(forward.valueChangedAt.getTime(), s.clock.now().getTime() - 1000);
      s.clock.advance(-(40 * 86_400_000 + 1000));
    });

    test('ifVersion: compare-and-set refuses a stale version with conflict', async () => {
      const path = 'project/consilio/cas';
      await s.secrets.set(consilio, { path, value: 'a', ifVersion: 0 });
      await assert.rejects(s.secrets.set(consilio, { path, value: 'b', ifVersion: 0 }), isError('conflict', /version 1, not 0/));
      await s.secrets.set(consilio, { path, value: 'b', ifVersion: 1 });
      assert.equal((await s.secrets.get(consilio, { path })).version, 2);
    });

    test('20 parallel set_secret with the same ifVersion: exactly one wins per version', async () => {
      const path = 'project/consilio/race';
      await s.secrets.set(consilio, { path, value: 'start' });
      for (const version of [1, 2, 3]) {
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, (_, i) => s.secrets.set(consilio, { path, value: `writer-${version}-${i}`, ifVersion: version })),
        );
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(won.length, 1, `version ${version}: ${won.length} winners`);
        assert.equal(lost.length, 19);
        for (const r of lost) assert.equal((r.reason as SupervisorError).code, 'conflict');
      }
      const history = await s.secrets.history(consilio, { path, limit: 10 });
      assert.deepEqual(history.items.map((h) => h.version), [4, 3, 2, 1]);
    });

    test('imports racing on the same new paths: one without overwrite never replaces what the other stored; files in other orders do not deadlock', async () => {
      for (let round = 0; round < 4; round++) {
        // Outside consilio's folder, whose listings other tests count.
        const prefix = `meta/import-race/r${round}/`;
        const keys = Array.from({ length: 60 }, (_, i) => `${prefix}k_${String(i).padStart(2, '0')}`);
        const a = keys.map((path) => ({ path, value: `A ${path}` }));
        // B's file lists the keys the other way round: the two lock rows in path order either way.
        const b = keys.map((path) => ({ path, value: `B ${path}` })).reverse();
        const [byA, byB] = await Promise.all([s.secrets.importMany(admin, prefix, a, true), s.secrets.importMany(admin, prefix, b, false)]);
        // Whichever ran first, A (overwrite) has the last word and B (no overwrite) replaced nothing.
        assert.deepEqual(byB.updated, [], `round ${round}: B updated ${byB.updated.join(', ')}`);
        assert.ok(byB.skipped.length === keys.length || byB.created.length === keys.length, `round ${round}: B ${JSON.stringify(byB)}`);
        assert.equal(byA.created.length + byA.updated.length, keys.length);
        const values = await s.secrets.readMany(admin, prefix, 100);
        assert.deepEqual(values.filter((v) => !v.value.startsWith('A ')), [], `round ${round}`);
        // The answer lists paths in the file's order.
        assert.deepEqual(byB.created.length ? byB.created : byB.skipped, [...keys].reverse());
      }
    });

    test('soft delete hides the secret; restore brings it back with its versions', async () => {
      const path = 'project/consilio/temp';
      await s.secrets.set(consilio, { path, value: 'x' });
      await s.secrets.delete(consilio, { path });
      await assert.rejects(s.secrets.get(consilio, { path }), isError('not_found', /was deleted; `restore_secret`/));
      const listed = await s.secrets.list(consilio, { prefix: 'project/consilio/', recursive: true, includeDeleted: false, limit: 200 });
      assert.ok(!listed.items.some((i) => i.path === path));
      const withDeleted = await s.secrets.list(consilio, { prefix: 'project/consilio/', recursive: true, includeDeleted: true, limit: 200 });
      assert.ok(withDeleted.items.some((i) => i.path === path && i.deletedAt !== null));
      // The history says the secret is deleted, on every page, not only that a version is current.
      const deletedAt = withDeleted.items.find((i) => i.path === path)!.deletedAt;
      assert.deepEqual((await s.secrets.history(consilio, { path, limit: 10 })).deletedAt, deletedAt);
      const past = await s.secrets.history(consilio, { path, limit: 1, cursor: encodeCursor('1') });
      assert.deepEqual([past.items, past.deletedAt], [[], deletedAt]);
      await s.secrets.restore(consilio, { path });
      assert.equal((await s.secrets.get(consilio, { path })).value, 'x');
      assert.equal((await s.secrets.history(consilio, { path, limit: 10 })).deletedAt, null);
      await assert.rejects(s.secrets.restore(consilio, { path }), isError('conflict', /not deleted/));
    });

    test('writing to a deleted path starts it again with created=true and ifVersion 0 allowed', async () => {
      const path = 'project/consilio/reborn';
      await s.secrets.set(consilio, { path, value: 'v1' });
      await s.secrets.delete(consilio, { path });
      const again = await s.secrets.set(consilio, { path, value: 'v2', ifVersion: 0 });
      assert.equal(again.created, true);
      assert.equal(again.version, 2);
    });

    test('a value written where a secret was deleted is a new secret: none of the deleted one\'s description, tags, expiry, rotation, age or reads', async () => {
      const path = 'project/consilio/recreated';
      const firstWritten = s.clock.now();
      await s.secrets.set(consilio, { path, value: 'old', description: 'the old credential', tags: ['legacy'], expiresAt: new Date(firstWritten.getTime() + 30 * 86_400_000), rotationIntervalDays: 7 });
      await s.secrets.get(consilio, { path });
      await s.secrets.get(consilio, { path });
      await s.secrets.delete(consilio, { path });
      s.clock.advance(3_600_000);
      const again = await s.secrets.set(consilio, { path, value: 'new' });
      assert.deepEqual(
        [again.created, again.description, again.tags, again.expiresAt, again.rotationIntervalDays, again.createdAt.getTime(), again.valueChangedAt.getTime(), again.readCount, again.lastReadAt],
        [true, null, [], null, null, s.clock.now().getTime(), s.clock.now().getTime(), 0, null],
      );
      // Its own reads count from here; the old versions stay in its history.
      assert.equal((await s.secrets.get(consilio, { path })).readCount, 1);
      assert.deepEqual((await s.secrets.history(consilio, { path, limit: 10 })).items.map((h) => h.version), [2, 1]);
      // A write to a live secret still keeps what the caller did not give.
      const kept = await s.secrets.set(consilio, { path, value: 'newer', description: 'the new one' });
      const next = await s.secrets.set(consilio, { path, value: 'newest' });
      assert.deepEqual([next.description, next.createdAt.getTime()], [kept.description, kept.createdAt.getTime()]);
    });

    test('list: metadata only, sorted, paginated, non-recursive shows folders', async () => {
      for (const k of ['a', 'b', 'c', 'd', 'e']) await s.secrets.set(admin, { path: `service/listing/${k}`, value: `value-${k}` });
      await s.secrets.set(admin, { path: 'service/listing/sub/x', value: 'value-x' });
      await s.secrets.set(admin, { path: 'service/listing_other/y', value: 'value-y' });
      const first = await s.secrets.list(admin, { prefix: 'service/listing', recursive: true, includeDeleted: false, limit: 4 });
      assert.deepEqual(first.items.map((i) => i.path), ['service/listing/a', 'service/listing/b', 'service/listing/c', 'service/listing/d']);
      assert.ok(!JSON.stringify(first).includes('value-'));
      const second = await s.secrets.list(admin, { prefix: 'service/listing', recursive: true, includeDeleted: false, limit: 4, cursor: first.nextCursor! });
      assert.deepEqual(second.items.map((i) => i.path), ['service/listing/e', 'service/listing/sub/x']);
      assert.equal(second.nextCursor, null);
      const shallow = await s.secrets.list(admin, { prefix: 'service/listing/', recursive: false, includeDeleted: false, limit: 50 });
      assert.deepEqual(shallow.items.map((i) => i.path), ['service/listing/a', 'service/listing/b', 'service/listing/c', 'service/listing/d', 'service/listing/e']);
      assert.deepEqual(shallow.folders, ['service/listing/sub/']);
    });

    test('a prefix naming a secret lists that secret, before anything in a folder of that name; pages carry on past it', async () => {
      await s.secrets.set(admin, { path: 'service/named/key', value: 'value-key' });
      await s.secrets.set(admin, { path: 'service/named/key/child', value: 'value-child' });
      await s.secrets.set(admin, { path: 'service/named/key_b', value: 'value-b' });
      const all = await s.secrets.list(admin, { prefix: 'service/named/key', recursive: true, includeDeleted: false, limit: 50 });
      assert.deepEqual(all.items.map((i) => i.path), ['service/named/key', 'service/named/key/child']);
      assert.ok(!JSON.stringify(all).includes('value-'));
      const first = await s.secrets.list(admin, { prefix: 'service/named/key', recursive: true, includeDeleted: false, limit: 1 });
      assert.deepEqual(first.items.map((i) => i.path), ['service/named/key']);
      const second = await s.secrets.list(admin, { prefix: 'service/named/key', recursive: true, includeDeleted: false, limit: 1, cursor: first.nextCursor! });
      assert.deepEqual(second.items.map((i) => i.path), ['service/named/key/child']);
      assert.equal(second.nextCursor, null);
      // With a trailing slash the prefix is only the folder.
      const folder = await s.secrets.list(admin, { prefix: 'service/named/key/', recursive: true, includeDeleted: false, limit: 50 });
      assert.deepEqual(folder.items.map((i) => i.path), ['service/named/key/child']);
      // Deleted, it is listed only with includeDeleted.
      await s.secrets.delete(admin, { path: 'service/named/key' });
      const live = await s.secrets.list(admin, { prefix: 'service/named/key', recursive: true, includeDeleted: false, limit: 50 });
      assert.deepEqual(live.items.map((i) => i.path), ['service/named/key/child']);
      const withDeleted = await s.secrets.list(admin, { prefix: 'service/named/key', recursive: true, includeDeleted: true, limit: 50 });
      assert.deepEqual(withDeleted.items.map((i) => [i.path, i.deletedAt !== null]), [['service/named/key', true], ['service/named/key/child', false]]);
      // A project token is refused a secret outside what it may read, named or not.
      await assert.rejects(s.secrets.list(odin, { prefix: 'service/named/key_b', recursive: true, includeDeleted: false, limit: 50 }), isError('forbidden'));
    });

    test('an expiry already past is refused, naming the field and now; nothing is stored', async () => {
      const now = s.clock.now();
      for (const expiresAt of [new Date(now.getTime() - 1000), now]) {
        await assertRejects(s.secrets.set(admin, { path: 'project/odin/stale-expiry', value: 'x', expiresAt }), 'invalid_input', new RegExp(`^expiresAt: ${expiresAt.toISOString()} has already passed \\(now ${now.toISOString()}\\)`));
      }
      await assertRejects(s.secrets.get(admin, { path: 'project/odin/stale-expiry' }), 'not_found');
      const set = await s.secrets.set(admin, { path: 'project/odin/stale-expiry', value: 'x', expiresAt: new Date(now.getTime() + 1000) });
      assert.equal(set.version, 1);
      await s.secrets.delete(admin, { path: 'project/odin/stale-expiry' });
    });

    test('expiry and rotation: secrets_due reports expired, expiring and rotation_due', async () => {
      // A past expiry cannot be stored: this one passes after it is.
      await s.secrets.set(admin, { path: 'project/odin/expired', value: 'x', expiresAt: new Date(s.clock.now().getTime() + 1000) });
      s.clock.advance(2000);
      const now = s.clock.now().getTime();
      await s.secrets.set(admin, { path: 'project/odin/expiring', value: 'x', expiresAt: new Date(now + 3 * 86_400_000) });
      await s.secrets.set(admin, { path: 'project/odin/rotate', value: 'x', rotationIntervalDays: 30 });
      await s.secrets.set(admin, { path: 'project/odin/fine', value: 'x', expiresAt: new Date(now + 90 * 86_400_000), rotationIntervalDays: 365 });
      const due = await s.secrets.due(odin, { withinDays: 14, limit: 50 });
      assert.deepEqual(due.items.map((d) => [d.path, d.reasons]), [
        ['project/odin/expired', ['expired']],
        ['project/odin/expiring', ['expiring']],
      ]);
      // Each with its nearest deadline, whole days left and a state: overdue or due soon.
      assert.deepEqual(due.items.map((d) => [d.state, d.dueAt.getTime() - now, d.daysLeft, d.rotateBy]), [
        ['overdue', -1000, -1, null],
        ['due_soon', 3 * 86_400_000, 3, null],
      ]);
      s.clock.advance(25 * 86_400_000);
      const later = await s.secrets.due(odin, { withinDays: 14, limit: 50 });
      const rotate = later.items.find((d) => d.path === 'project/odin/rotate')!;
      assert.deepEqual([rotate.reasons, rotate.state, rotate.daysLeft, rotate.rotateBy?.getTime()], [['rotation_due'], 'due_soon', 5, now + 30 * 86_400_000]);
      // Due tomorrow, by the default window: not overdue, and the date says when.
      s.clock.advance(4 * 86_400_000);
      const tomorrow = (await s.secrets.due(odin, { withinDays: 14, limit: 50 })).items.find((d) => d.path === 'project/odin/rotate')!;
      assert.deepEqual([tomorrow.reasons, tomorrow.state, tomorrow.daysLeft, tomorrow.dueAt.toISOString()], [['rotation_due'], 'due_soon', 1, new Date(now + 30 * 86_400_000).toISOString()]);
      s.clock.advance(2 * 86_400_000);
      const overdue = (await s.secrets.due(odin, { withinDays: 14, limit: 50 })).items.find((d) => d.path === 'project/odin/rotate')!;
      assert.deepEqual([overdue.reasons, overdue.state, overdue.daysLeft], [['rotation_overdue'], 'overdue', -1]);
      s.clock.advance(-6 * 86_400_000);
      const expired = await s.secrets.get(odin, { path: 'project/odin/expired' });
      assert.equal(expired.expired, true);
      s.clock.advance(-25 * 86_400_000);
    });

    test('a new value for a secret whose expiry has passed starts without one; the same value keeps it; an expiry still ahead is kept', async () => {
      const path = 'project/odin/lapsing';
      const expiresAt = new Date(s.clock.now().getTime() + 1000);
      await s.secrets.set(admin, { path, value: 'old-credential', expiresAt });
      s.clock.advance(2000);
      const resaved = await s.secrets.set(admin, { path, value: 'old-credential' });
      assert.equal(resaved.expiresAt?.getTime(), expiresAt.getTime(), 'the same credential is still expired');
      const renewed = await s.secrets.set(admin, { path, value: 'new-credential' });
      assert.equal(renewed.expiresAt, null);
      assert.equal((await s.secrets.get(admin, { path })).expired, false);
      const later = new Date(s.clock.now().getTime() + 86_400_000);
      await s.secrets.set(admin, { path, value: 'third', expiresAt: later });
      assert.equal((await s.secrets.set(admin, { path, value: 'fourth' })).expiresAt?.getTime(), later.getTime());
      s.clock.advance(-2000);
    });

    test('writing the same value again is a new version, not a rotation: the value changed when it last differed', async () => {
      const path = 'project/odin/resaved';
      const first = await s.secrets.set(admin, { path, value: 'old-credential', rotationIntervalDays: 30 });
      s.clock.advance(40 * 86_400_000);
      const again = await s.secrets.set(admin, { path, value: 'old-credential' });
      assert.deepEqual([again.version, again.valueChangedAt.getTime()], [2, first.valueChangedAt.getTime()]);
      const due = await s.secrets.due(admin, { withinDays: 0, limit: 50 });
      assert.deepEqual(due.items.find((d) => d.path === path)?.reasons, ['rotation_overdue'], 'still overdue for rotation');
      const rotated = await s.secrets.set(admin, { path, value: 'new-credential' });
      assert.equal(rotated.valueChangedAt.getTime(), s.clock.now().getTime());
      // After a delete, the same value again is the secret coming back: a change.
      await s.secrets.delete(admin, { path });
      s.clock.advance(1000);
      const back = await s.secrets.set(admin, { path, value: 'new-credential' });
      assert.equal(back.valueChangedAt.getTime(), s.clock.now().getTime());
      s.clock.advance(-(40 * 86_400_000 + 1000));
    });

    test('access tracking counts reads and the audit log has one row per read and write, without values', async () => {
      const path = 'project/consilio/tracked';
      await s.secrets.set(consilio, { path, value: 'tracked-value-123' });
      await s.secrets.get(consilio, { path });
      const second = await s.secrets.get(consilio, { path });
      assert.equal(second.readCount, 2);
      assert.ok(second.lastReadAt);
      const rows = await s.audit.list({ target: path, limit: 10 });
      assert.deepEqual(rows.map((r) => [r.action, r.outcome, r.actor]).reverse(), [
        ['secret.write', 'ok', 'token:consilio'],
        ['secret.read', 'ok', 'token:consilio'],
        ['secret.read', 'ok', 'token:consilio'],
      ]);
      assert.ok(!JSON.stringify(rows).includes('tracked-value-123'));
    });

    test('a project reads and writes only its own folder; meta needs admin; denials are audited', async () => {
      await s.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: 'cf-token' });
      await s.secrets.set(odin, { path: 'project/odin/key', value: 'odin-key' });
      await assert.rejects(s.secrets.get(consilio, { path: 'meta/cloudflare/api_token' }), isError('forbidden', /meta\/ paths need an admin token/));
      await assert.rejects(s.secrets.get(consilio, { path: 'project/odin/key' }), isError('forbidden'));
      await assert.rejects(s.secrets.set(consilio, { path: 'project/odin/key', value: 'overwrite' }), isError('forbidden'));
      await assert.rejects(s.secrets.set(consilio, { path: 'meta/cloudflare/api_token', value: 'overwrite' }), isError('forbidden'));
      await assert.rejects(s.secrets.list(consilio, { prefix: 'meta/', recursive: true, includeDeleted: false, limit: 10 }), isError('forbidden'));
      await assert.rejects(s.secrets.list(consilio, { prefix: 'project/odin/', recursive: true, includeDeleted: false, limit: 10 }), isError('forbidden'));
      await assert.rejects(s.secrets.delete(consilio, { path: 'project/odin/key' }), isError('forbidden'));
      assert.equal((await s.secrets.get(odin, { path: 'project/odin/key' })).value, 'odin-key');
      // A prefix that only shares characters is not inside the folder.
      await assert.rejects(s.secrets.set(consilio, { path: 'project/consilio2/key', value: 'x' }), isError('forbidden'));
      const denied = await s.audit.list({ actor: 'token:consilio', limit: 50 });
      assert.ok(denied.filter((r) => r.outcome === 'denied').length >= 7);
      // Listing above its folder shows only what the project may read.
      const all = await s.secrets.list(consilio, { prefix: 'project/', recursive: true, includeDeleted: false, limit: 200 });
      assert.ok(all.items.length > 0);
      assert.ok(all.items.every((i) => i.path.startsWith('project/consilio/')));
    });

    test('grants open other prefixes: read grants read only, write grants both', async () => {
      await s.secrets.set(admin, { path: 'service/penpot/admin_password', value: 'penpot-pw' });
      await assert.rejects(s.secrets.get(consilio, { path: 'service/penpot/admin_password' }), isError('forbidden'));
      // A grant names a project that exists: a typo must not wait there for a project of that name.
      await assert.rejects(s.secrets.grant('test-admin', { project: 'consilio', prefix: 'service/penpot', access: 'read' }), isError('not_found', /^no project consilio; /));
      await s.projects.add('test', { name: 'consilio' });
      assert.deepEqual(await s.secrets.grant('test-admin', { project: 'consilio', prefix: 'service/penpot', access: 'read' }), { project: 'consilio', prefix: 'service/penpot/', access: 'read', previous: null });
      assert.equal((await s.secrets.get(consilio, { path: 'service/penpot/admin_password' })).value, 'penpot-pw');
      await assert.rejects(s.secrets.set(consilio, { path: 'service/penpot/admin_password', value: 'x' }), isError('forbidden'));
      const listed = await s.secrets.list(consilio, { prefix: 'service/', recursive: true, includeDeleted: false, limit: 50 });
      assert.deepEqual(listed.items.map((i) => i.path), ['service/penpot/admin_password']);
      assert.equal((await s.secrets.grant('test-admin', { project: 'consilio', prefix: 'service/penpot/', access: 'write' })).previous, 'read');
      await s.secrets.set(consilio, { path: 'service/penpot/admin_password', value: 'new' });
      // Granted again without write (read is the default): the answer says write access is gone.
      const lowered = await s.secrets.grant('test-admin', { project: 'consilio', prefix: 'service/penpot', access: 'read' });
      assert.deepEqual([lowered.previous, lowered.note], ['write', 'consilio had write access to service/penpot/; it now has read access only (grant again with access write to keep writing)']);
      await assert.rejects(s.secrets.set(consilio, { path: 'service/penpot/admin_password', value: 'x' }), isError('forbidden'));
      await s.secrets.revokeGrant('test-admin', { project: 'consilio', prefix: 'service/penpot' });
      await assert.rejects(s.secrets.get(consilio, { path: 'service/penpot/admin_password' }), isError('forbidden'));
    });

    test('two grants of one prefix at once: one is new, the other answers what the first gave', async () => {
      await s.projects.add('test', { name: 'racer' });
      for (let round = 0; round < 5; round++) {
        const prefix = `service/race${round}/`;
        const both = await Promise.all([s.secrets.grant('test-admin', { project: 'racer', prefix, access: 'read' }), s.secrets.grant('test-admin', { project: 'racer', prefix, access: 'write' })]);
        const [fresh, second] = both[0].previous === null ? both : [both[1], both[0]];
        assert.equal(fresh.previous, null, JSON.stringify(both));
        assert.equal(second.previous, fresh.access, JSON.stringify(both));
      }
    });

    test("a grant into a project's folder needs that project: a typo or a project not yet made is refused, and nothing waits for it", async () => {
      await assert.rejects(s.secrets.grant('test-admin', { project: 'consilio', prefix: 'project/zeta/', access: 'read' }), isError('not_found', /^no project zeta; /));
      await assert.rejects(s.secrets.grant('test-admin', { project: 'consilio', prefix: 'project/zeta/db', access: 'write' }), isError('not_found', /^no project zeta; /));
      assert.deepEqual(await s.secrets.listGrants('consilio').then((g) => g.filter((x) => x.prefix.startsWith('project/zeta'))), []);
      await s.projects.add('test', { name: 'zeta' });
      await s.secrets.set(admin, { path: 'project/zeta/db_password', value: 'zeta-pw' });
      await assert.rejects(s.secrets.get(consilio, { path: 'project/zeta/db_password' }), isError('forbidden'), 'zeta, made later, inherits no grant to consilio');
      await s.secrets.grant('test-admin', { project: 'consilio', prefix: 'project/zeta/', access: 'read' });
      assert.equal((await s.secrets.get(consilio, { path: 'project/zeta/db_password' })).value, 'zeta-pw');
      await s.secrets.grant('test-admin', { project: 'consilio', prefix: 'project/', access: 'read' });
      await s.secrets.revokeGrant('test-admin', { project: 'consilio', prefix: 'project/' });
      await s.secrets.revokeGrant('test-admin', { project: 'consilio', prefix: 'project/zeta/' });
    });

    test('a grant of one secret (its path as the prefix) lists it, beside what it reads', async () => {
      await s.secrets.set(admin, { path: 'service/smtp/password', value: 'smtp-pw' });
      await s.secrets.set(admin, { path: 'service/smtp/password_old', value: 'old' });
      await s.secrets.grant('test-admin', { project: 'consilio', prefix: 'service/smtp/password', access: 'read' });
      assert.equal((await s.secrets.get(consilio, { path: 'service/smtp/password' })).value, 'smtp-pw');
      await assert.rejects(s.secrets.get(consilio, { path: 'service/smtp/password_old' }), isError('forbidden'));
      for (const recursive of [true, false]) {
        const listed = await s.secrets.list(consilio, { prefix: 'service/smtp/', recursive, includeDeleted: false, limit: 50 });
        assert.deepEqual(listed.items.map((i) => i.path), ['service/smtp/password'], `recursive ${recursive}`);
      }
      await s.secrets.revokeGrant('test-admin', { project: 'consilio', prefix: 'service/smtp/password' });
    });

    test('bad values are refused with the field named and nothing stored', async () => {
      const path = 'project/consilio/bad';
      await assert.rejects(s.secrets.set(consilio, { path, value: '' }), isError('invalid_input', /^value: must not be empty/));
      await assert.rejects(s.secrets.set(consilio, { path, value: 'a\0b' }), isError('invalid_input', /^value: must not contain NUL/));
      await assert.rejects(s.secrets.set(consilio, { path, value: 'x'.repeat(64 * 1024 + 1) }), isError('invalid_input', /^value: is 65537 bytes/));
      await assert.rejects(s.secrets.get(consilio, { path }), isError('not_found', /no secret at/));
    });

    test('import is all-or-nothing and idempotent; export gives the values back as variables', async () => {
      const prefix = 'project/consilio/env/';
      const r1 = await s.secrets.importMany(consilio, prefix, [{ path: `${prefix}a`, value: '1' }, { path: `${prefix}b`, value: '2' }], true);
      assert.deepEqual(r1.created, [`${prefix}a`, `${prefix}b`]);
      const r2 = await s.secrets.importMany(consilio, prefix, [{ path: `${prefix}a`, value: '1' }, { path: `${prefix}b`, value: '3' }], true);
      assert.deepEqual(r2.unchanged, [`${prefix}a`]);
      assert.deepEqual(r2.updated, [`${prefix}b`]);
      await assert.rejects(s.secrets.importMany(consilio, prefix, [{ path: `${prefix}c`, value: 'ok' }, { path: `${prefix}d`, value: '' }], true), isError('invalid_input', /^content: the value for project\/consilio\/env\/d: must not be empty/));
      await assert.rejects(s.secrets.get(consilio, { path: `${prefix}c` }), isError('not_found'));
      const values = await s.secrets.readMany(consilio, prefix, 100);
      assert.deepEqual(values.map((v) => ({ path: v.path, value: v.value })), [{ path: `${prefix}a`, value: '1' }, { path: `${prefix}b`, value: '3' }]);
      await assert.rejects(s.secrets.readMany(consilio, 'meta/', 100), isError('forbidden'));
    });

    test('after data-key and master-key rotation every old version still decrypts', async () => {
      const path = 'project/consilio/rotated';
      await s.secrets.set(consilio, { path, value: 'before-any-rotation' });
      const first = await s.secrets.keyring.rotateDataKey('test-admin');
      assert.equal(first.activeKeyId, first.retiredKeyId! + 1);
      await s.secrets.set(consilio, { path, value: 'after-data-rotation' });
      const master = await s.secrets.keyring.rotateMasterKey('test-admin');
      assert.ok(master.rewrapped >= 2);
      await s.secrets.set(consilio, { path, value: 'after-master-rotation' });
      const keys = await s.secrets.keyring.list();
      assert.ok(keys.every((k) => k.masterKeyId === master.masterKeyId));
      assert.equal(keys.filter((k) => k.status === 'active').length, 1);
      assert.equal((await s.secrets.get(consilio, { path, version: 1 })).value, 'before-any-rotation');
      assert.equal((await s.secrets.get(consilio, { path, version: 2 })).value, 'after-data-rotation');
      assert.equal((await s.secrets.get(consilio, { path, version: 3 })).value, 'after-master-rotation');
    });
  });
}
