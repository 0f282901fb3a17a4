/**
 * A daemon that loses its sync lock (its database connection dropped, or it died) with a
 * tunnel configuration PUT or a DNS change already sent: it can still land. The next holder must
 * not read before that, or the late write undoes its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SupervisorApp } from '../../src/app.js';
import type { Db } from '../../src/core/db.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { WriteFence } from '../../src/cloudflare/write-fence.js';
import type { FakeCloudflare } from '../fakes/cloudflare/index.js';
import { ACCOUNT } from './fixture.js';
import { openSharedCloudflare, type SharedCloudflare } from './shared-fixture.js';
import { skipReason } from '../helpers/db.js';
import { lockHolderPid } from '../helpers/lock-session.js';
import { interceptStatements } from '../helpers/db-intercept.js';
import type { SharedDaemons } from '../helpers/shared-daemons.js';
import { within } from '../helpers/wait.js';

const admin = adminPrincipal('test-admin');

/** Ends the database session holding the lock `name` of the shared schema: its holder loses it, whatever it has sent. */
async function endLockSession(db: Db, name: string): Promise<void> {
  const pid = await lockHolderPid(db, name);
  assert.ok(pid, `a session holds ${name}`);
  const { rows } = await db.query<{ ended: boolean }>('SELECT pg_terminate_backend($1) AS ended', [pid]);
  assert.deepEqual(rows, [{ ended: true }], `the session holding ${name} ended`);
}

const pending = (fake: FakeCloudflare, method: string, pathPart: string) => fake.calls.some((c) => c.method === method && c.path.includes(pathPart) && c.status === 0);

describe('a Cloudflare write still in flight when its daemon lost the sync lock [postgres]', { skip: await skipReason('postgres') }, () => {
  let fake: FakeCloudflare;
  let shared: SharedDaemons;
  let tunnelId: string;
  let zoneId: string;
  /** While set, daemon A's statement storing a tunnel route waits for it: A's record of a write it has made, held up. */
  let routeStore: Promise<void> | undefined;
  let all: SharedCloudflare | undefined;
  before(async () => {
    all = await openSharedCloudflare(2, {
      wrap: (db, index) =>
        index > 0
          ? db
          : interceptStatements(db, async (sql, _params, run) => {
              if (routeStore && sql.startsWith('INSERT INTO tunnel_routes')) await routeStore;
              return run();
            }),
    });
    ({ fake, shared, tunnelId, zoneId } = all);
  });
  after(() => all?.close());

  test("the next holder waits for it, and neither daemon's route is lost", async () => {
    const [a, b] = shared.apps.map((app: SupervisorApp) => new LocalInvoker(app, admin, 'internal')) as [LocalInvoker, LocalInvoker];
    // A's read and its PUT each take 1.5 s at Cloudflare.
    fake.failNext(2, { delayMs: 1_500 }, `/cfd_tunnel/${tunnelId}/configurations`);
    const first = a.invoke('add_tunnel_route', { hostname: 'a.example.com', service: 'http://localhost:4001' });
    await within(5_000, "A's PUT is on the wire", () => pending(fake, 'PUT', '/configurations'));
    await endLockSession(shared.db, `tunnel:${tunnelId}`);
    await b.invoke('add_tunnel_route', { hostname: 'b.example.com', service: 'http://localhost:4002' });
    await first;
    const hostnames = fake.tunnelConfig(ACCOUNT, tunnelId)!.config.ingress.map((r) => r.hostname).filter(Boolean);
    assert.deepEqual(hostnames.sort(), ['a.example.com', 'b.example.com'], 'both routes are in the tunnel');
  });

  test("the next holder waits for the earlier holder's record of its write too, or it takes that holder's route for someone else's and drops it", async () => {
    const [a, b] = shared.apps.map((app: SupervisorApp) => new LocalInvoker(app, admin, 'internal')) as [LocalInvoker, LocalInvoker];
    const puts = () => fake.calls.filter((c) => c.method === 'PUT' && c.path.includes('/configurations') && c.status !== 0).length;
    const before = puts();
    // A's PUT lands at once; storing its route in the database is held up until B is reading the
    // tunnel (its GET held 1 s at Cloudflare), so it commits between B's reading of the routes and
    // of the rules the supervisor owns; or, if B waits for it, until 2 s have passed.
    let release!: () => void;
    routeStore = new Promise<void>((resolve) => (release = resolve));
    const releaseLater = setTimeout(release, 2_000);
    let watch: NodeJS.Timeout | undefined;
    try {
      const first = a.invoke('add_tunnel_route', { hostname: 'c.example.com', service: 'http://localhost:4003' });
      await within(5_000, "A's PUT has landed", () => puts() > before);
      await endLockSession(shared.db, `tunnel:${tunnelId}`);
      fake.failNext(1, { delayMs: 1_000 }, `/cfd_tunnel/${tunnelId}/configurations`);
      watch = setInterval(() => pending(fake, 'GET', '/configurations') && release(), 5);
      await b.invoke('add_tunnel_route', { hostname: 'd.example.com', service: 'http://localhost:4004' });
      await first;
    } finally {
      clearInterval(watch);
      clearTimeout(releaseLater);
      release();
      routeStore = undefined;
    }
    const hostnames = fake.tunnelConfig(ACCOUNT, tunnelId)!.config.ingress.map((r) => r.hostname);
    assert.ok(hostnames.includes('c.example.com') && hostnames.includes('d.example.com'), `both routes are in the tunnel: ${hostnames.join(', ')}`);
    const { items } = (await b.invoke('list_tunnel_routes', {})) as { items: Array<{ hostname: string; applied: { ingress: boolean } }> };
    const notApplied = items.filter((r) => !r.applied.ingress).map((r) => r.hostname);
    assert.deepEqual(notApplied, [], 'every route is known to be in the tunnel (a rule of ours taken for a foreign one cannot be updated or removed later)');
    const sync = (await a.invoke('sync_tunnel', { dryRun: true })) as { ok: boolean; routes: { conflicts: unknown[] } };
    assert.deepEqual(sync.routes.conflicts, [], 'nothing in the tunnel conflicts with the routes');
  });

  test("a DNS change: the next holder reads the zone after it has landed, so the last change asked for is the one that stays", async () => {
    const [a, b] = shared.apps.map((app: SupervisorApp) => new LocalInvoker(app, admin, 'internal')) as [LocalInvoker, LocalInvoker];
    await a.invoke('create_cname', { hostname: 'www.example.com', target: 'first.example.net' });
    // A's update of the record (by id) takes 1.5 s at Cloudflare; its read of the zone does not wait.
    fake.failNext(1, { delayMs: 1_500 }, '/dns_records/');
    const first = a.invoke('create_cname', { hostname: 'www.example.com', target: 'second.example.net' });
    await within(5_000, "A's update is on the wire", () => pending(fake, 'PUT', '/dns_records/'));
    await endLockSession(shared.db, `zone:${zoneId}`);
    await b.invoke('create_cname', { hostname: 'www.example.com', target: 'third.example.net' });
    await first;
    const www = fake.records(zoneId).filter((r) => r.name === 'www.example.com');
    assert.deepEqual(www.map((r) => r.content), ['third.example.net'], "B's change, asked for last, stays");
  });

  test('a mark left by a sender that died is waited out until its write can no longer land', async () => {
    const fence = new WriteFence(shared.db, { landMs: 30_000, heartbeatMs: 5_000, pollMs: 50 });
    // What a daemon killed mid-PUT leaves: its mark, which no heartbeat moves and no answer removes.
    await shared.db.query("INSERT INTO cloudflare_writes_in_flight (lock_key, writer, landed_by) VALUES ('test:dead', 'dead', now() + interval '800 milliseconds')");
    const started = Date.now();
    // The next holder: it starts once the mark is waited out, and a write of its own marks and unmarks the key.
    const sent = await fence.run('test:dead', (fenced) => {
      assert.ok(Date.now() - started >= 700, `went ahead after ${Date.now() - started} ms, before the write could no longer land`);
      return fenced(async () => 'sent');
    });
    assert.equal(sent, 'sent');
    const { rows } = await shared.db.query("SELECT 1 FROM cloudflare_writes_in_flight WHERE lock_key = 'test:dead'");
    assert.equal(rows.length, 0, 'no mark left once the write has answered');
  });
});
