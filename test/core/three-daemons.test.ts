/**
 * Three daemons on one PostgreSQL, all at once: allocations, secret writes and reads,
 * token revocations and tunnel route changes against one fake Cloudflare. What must
 * hold: one consistent tunnel configuration holding every route, no port handed out
 * twice, no revoked token accepted after 1 s, no stale secret read after 200 ms.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SupervisorApp } from '../../src/app.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import type { FakeCloudflare } from '../fakes/cloudflare/index.js';
import { ACCOUNT } from '../cloudflare/fixture.js';
import { openSharedCloudflare, type SharedCloudflare } from '../cloudflare/shared-fixture.js';
import { skipReason } from '../helpers/db.js';
import { addProject } from '../helpers/projects.js';
import type { SharedDaemons } from '../helpers/shared-daemons.js';
import { within } from '../helpers/wait.js';

const admin = adminPrincipal('test-admin');
const ROUTES_EACH = 6;

describe('three daemons on one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let fake: FakeCloudflare;
  let shared: SharedDaemons;
  let apps: SupervisorApp[];
  let tunnelId: string;
  let all: SharedCloudflare | undefined;
  before(async () => {
    all = await openSharedCloudflare(3);
    ({ fake, shared, tunnelId } = all);
    apps = shared.apps;
    await addProject(apps[0]!, 'test', { name: 'consilio' });
  });
  after(() => all?.close());

  test('everything at once stays consistent', async () => {
    const invokers = apps.map((app) => new LocalInvoker(app, admin, 'internal'));
    const tokens = await Promise.all(apps.map((app, i) => app.auth.tokens.create({ name: `agent-${i}`, project: 'consilio' })));
    // Every daemon has verified (and remembers) every token before the storm.
    for (const app of apps) for (const t of tokens) assert.ok(await app.auth.tokens.verify(t.token));

    const work = apps.flatMap((app, i) => [
      // Tunnel routes: each daemon adds its own, concurrently with the others.
      ...Array.from({ length: ROUTES_EACH }, (_, r) => invokers[i]!.invoke('add_tunnel_route', { hostname: `d${i}-r${r}.example.com`, port: 4000 + i * 10 + r })),
      // Allocations: the same service names from every daemon must get one port each, and new ones distinct ports.
      ...Array.from({ length: 8 }, (_, s) => app.ports.allocate(admin, { project: 'consilio', service: `svc-${s}` })),
      ...Array.from({ length: 8 }, (_, s) => app.ports.allocate(admin, { project: 'consilio', service: `d${i}-own-${s}` })),
      // Secret writes to one shared path and one per daemon.
      ...Array.from({ length: 5 }, (_, v) => app.secrets.set(admin, { path: `project/consilio/d${i}`, value: `d${i}-v${v}` })),
    ]);
    const revokedAt = new Map<string, number>();
    const revocations = tokens.map(async (t, i) => {
      await apps[(i + 1) % 3]!.auth.tokens.revoke(t.id);
      revokedAt.set(t.id, performance.now());
    });
    await Promise.all([...work, ...revocations]);

    // One tunnel configuration, holding every daemon's routes (none lost to an interleaved PUT).
    const remote = fake.tunnelConfig(ACCOUNT, tunnelId)!.config;
    const hostnames = remote.ingress.flatMap((rule) => (rule.hostname ? [rule.hostname] : []));
    const expected = apps.flatMap((_, i) => Array.from({ length: ROUTES_EACH }, (_, r) => `d${i}-r${r}.example.com`));
    assert.deepEqual([...hostnames].sort(), [...expected].sort(), 'every route is in the tunnel, once');
    for (const app of apps) {
      const listed = (await new LocalInvoker(app, admin, 'internal').invoke('list_tunnel_routes', {})) as { items: { hostname: string }[] };
      assert.deepEqual(listed.items.map((r) => r.hostname).sort(), [...expected].sort(), 'every daemon lists the same routes');
    }

    // No port twice; a service has one port whoever asked.
    const { rows } = await shared.db.query<{ port: number; n: number }>('SELECT port, count(*)::int AS n FROM port_allocations GROUP BY port HAVING count(*) > 1');
    assert.deepEqual(rows, [], 'no port allocated twice');
    const ports = await Promise.all(apps.map((app) => app.ports.allocate(admin, { project: 'consilio', service: 'svc-3' })));
    assert.equal(new Set(ports.map((p) => p.port)).size, 1);

    // Revoked tokens: refused everywhere within 1 s of their revocation.
    for (const t of tokens) {
      for (const app of apps) {
        await within(Math.max(1, 1_000 - (performance.now() - revokedAt.get(t.id)!)), `token ${t.id} refused`, async () => (await app.auth.tokens.verify(t.token)) === undefined);
      }
    }

    // Secrets: after the storm every daemon reads the last value; a new write is read everywhere within 200 ms.
    for (let i = 0; i < 3; i++) {
      const last = (await apps[0]!.secrets.get(admin, { path: `project/consilio/d${i}` })).value;
      for (const app of apps) assert.equal((await app.secrets.get(admin, { path: `project/consilio/d${i}` })).value, last);
    }
    for (const [w, app] of apps.entries()) {
      const path = 'project/consilio/shared';
      await app.secrets.set(admin, { path, value: `from-${w}` });
      for (const reader of apps) {
        await within(200, `daemon reads from-${w}`, async () => (await reader.secrets.get(admin, { path })).value === `from-${w}`);
      }
    }
  });
});
