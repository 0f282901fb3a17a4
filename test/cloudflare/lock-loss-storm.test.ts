/**
 * Three daemons adding tunnel routes at once while their sync locks keep being lost under them
 * (the database session holding a tunnel's or a zone's lock ended, as when a daemon's connection
 * drops), and every Cloudflare call taking a while so the windows are wide. A caller whose sync
 * was cut off runs it again, as the error says. Whatever the timing: the tunnel holds exactly the
 * routes the database stores, each known as ours, and each hostname has its one CNAME.
 * A broad check of the invariant; the narrow windows it may miss are pinned one by one in
 * write-in-flight.test.ts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { SupervisorError } from '../../src/core/errors.js';
import { adminPrincipal } from '../../src/core/principal.js';
import type { FakeCloudflare } from '../fakes/cloudflare/index.js';
import { ACCOUNT } from './fixture.js';
import { openSharedCloudflare, type SharedCloudflare } from './shared-fixture.js';
import { skipReason } from '../helpers/db.js';
import { lockHolderPid } from '../helpers/lock-session.js';
import type { SharedDaemons } from '../helpers/shared-daemons.js';

const admin = adminPrincipal('test-admin');
const ROUTES_EACH = 4;
const KILLS = 12;
const ATTEMPTS = 40;

describe('tunnel routes while sync locks are lost [postgres]', { skip: await skipReason('postgres') }, () => {
  let fake: FakeCloudflare;
  let shared: SharedDaemons;
  let tunnelId: string;
  let zoneId: string;
  let all: SharedCloudflare | undefined;
  before(async () => {
    all = await openSharedCloudflare(3);
    ({ fake, shared, tunnelId, zoneId } = all);
  });
  after(() => all?.close());

  test('the tunnel, the stored routes and the CNAMEs agree once every caller is done', async (t) => {
    const invokers = shared.apps.map((app) => new LocalInvoker(app, admin, 'internal'));
    fake.failAlways({ delayMs: 25 }, `/cfd_tunnel/${tunnelId}/configurations`);
    fake.failAlways({ delayMs: 25 }, '/dns_records');
    t.after(() => fake.clearFaults());

    // Ends the session holding a tunnel's or a zone's lock, a bounded number of times: mostly
    // while its holder's write is on the wire (the write can still land), else at any moment.
    let kills = 0;
    let adding = true;
    const onTheWire = (pathPart: string) => fake.calls.some((c) => c.method !== 'GET' && c.path.includes(pathPart) && c.status === 0);
    const killer = (async () => {
      while (adding && kills < KILLS) {
        await sleep(5);
        const lock = onTheWire('/configurations') ? `tunnel:${tunnelId}` : onTheWire('/dns_records') ? `zone:${zoneId}` : Math.random() < 0.02 ? `tunnel:${tunnelId}` : undefined;
        const pid = lock && (await lockHolderPid(shared.db, lock));
        if (!pid) continue;
        await shared.db.query('SELECT pg_terminate_backend($1)', [pid]);
        kills++;
        // Room for the next holder to start its own read-diff-write.
        await sleep(40);
      }
    })();

    let retried = 0;
    const add = async (daemon: number, route: number) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await invokers[daemon]!.invoke('add_tunnel_route', { hostname: `d${daemon}-r${route}.example.com`, port: 4000 + daemon * 10 + route });
        } catch (err) {
          // "lost the database lock …; run it again"
          if (!(err instanceof SupervisorError) || err.code !== 'unavailable' || attempt >= ATTEMPTS) throw err;
          retried++;
        }
      }
    };
    try {
      await Promise.all(shared.apps.flatMap((_, d) => Array.from({ length: ROUTES_EACH }, (_, r) => add(d, r))));
    } finally {
      adding = false;
      await killer;
    }
    assert.ok(kills > 0, 'some lock was lost under a sync');

    const expected = shared.apps.flatMap((_, d) => Array.from({ length: ROUTES_EACH }, (_, r) => `d${d}-r${r}.example.com`)).sort();
    const ingress = fake.tunnelConfig(ACCOUNT, tunnelId)!.config.ingress.flatMap((rule) => (rule.hostname ? [rule.hostname] : []));
    assert.deepEqual([...ingress].sort(), expected, `the tunnel holds every route, once (${kills} locks lost, ${retried} calls run again)`);
    const { items } = (await invokers[0]!.invoke('list_tunnel_routes', { limit: 100 })) as { items: Array<{ hostname: string; applied: { ingress: boolean; dns: boolean } }> };
    assert.deepEqual(items.map((r) => r.hostname).sort(), expected, 'the database stores every route');
    assert.deepEqual(items.filter((r) => !r.applied.ingress || !r.applied.dns).map((r) => r.hostname), [], 'each route is known as ours in the tunnel, with its CNAME');
    const cnames = fake.records(zoneId).filter((r) => r.type === 'CNAME').map((r) => r.name).sort();
    assert.deepEqual(cnames, expected, 'one CNAME per route');
    const plan = (await invokers[1]!.invoke('sync_tunnel', { dryRun: true })) as { routes: { add: unknown[]; remove: unknown[]; change: unknown[]; conflicts: unknown[] } };
    assert.deepEqual([plan.routes.add, plan.routes.remove, plan.routes.change, plan.routes.conflicts], [[], [], [], []], 'a sync afterwards has nothing to do');
  });
});
