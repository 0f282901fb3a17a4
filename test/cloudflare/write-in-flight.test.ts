/**
 * A daemon that loses its sync lock (its database connection dropped, or it died) with a
 * tunnel configuration PUT already sent: the PUT can still land. The next holder must not
 * read the configuration before that, or the late PUT undoes its write.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { SupervisorApp } from '../../src/app.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { WriteFence } from '../../src/cloudflare/write-fence.js';
import { startFakeCloudflare, type FakeCloudflare } from '../fakes/cloudflare/index.js';
import { ACCOUNT, ALL_PERMISSIONS, TOKEN } from './fixture.js';
import { skipReason } from '../helpers/db.js';
import { openSharedDaemons, type SharedDaemons } from '../helpers/shared-daemons.js';
import { within } from '../helpers/wait.js';

const admin = adminPrincipal('test-admin');

describe('a tunnel PUT still in flight when its daemon lost the sync lock [postgres]', { skip: await skipReason('postgres') }, () => {
  let fake: FakeCloudflare;
  let shared: SharedDaemons;
  let tunnelId: string;
  before(async () => {
    fake = await startFakeCloudflare();
    fake.addToken(TOKEN, ALL_PERMISSIONS);
    fake.addZone('example.com', { accountId: ACCOUNT });
    tunnelId = randomUUID();
    fake.addTunnel(ACCOUNT, tunnelId);
    shared = await openSharedDaemons(2, {
      env: { SUPERVISOR_CLOUDFLARE_API_URL: fake.url, SUPERVISOR_CLOUDFLARE_TUNNEL_MODE: 'remote', SUPERVISOR_CLOUDFLARE_TUNNEL_ID: tunnelId, SUPERVISOR_CLOUDFLARE_ACCOUNT_ID: ACCOUNT },
    });
    await shared.apps[0]!.secrets.set(admin, { path: 'meta/cloudflare/api_token', value: TOKEN });
  });
  after(async () => {
    await shared?.close();
    await fake?.close();
  });

  test("the next holder waits for it, and neither daemon's route is lost", async () => {
    const [a, b] = shared.apps.map((app: SupervisorApp) => new LocalInvoker(app, admin, 'internal')) as [LocalInvoker, LocalInvoker];
    // A's read and its PUT each take 1.5 s at Cloudflare.
    fake.failNext(2, { delayMs: 1_500 }, `/cfd_tunnel/${tunnelId}/configurations`);
    const first = a.invoke('add_tunnel_route', { hostname: 'a.example.com', service: 'http://localhost:4001' });
    await within(5_000, "A's PUT is on the wire", () => fake.calls.some((c) => c.method === 'PUT' && c.path.includes('/configurations') && c.status === 0));
    // A loses the lock: the database ends the session that held it.
    const { rows } = await shared.db.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || ':tunnel:' || $1::text, 0)`,
      [tunnelId],
    );
    assert.deepEqual(rows, [{ ended: true }], "A's lock session ended");
    await b.invoke('add_tunnel_route', { hostname: 'b.example.com', service: 'http://localhost:4002' });
    await first;
    const hostnames = fake.tunnelConfig(ACCOUNT, tunnelId)!.config.ingress.map((r) => r.hostname).filter(Boolean);
    assert.deepEqual(hostnames.sort(), ['a.example.com', 'b.example.com'], 'both routes are in the tunnel');
  });

  test('a mark left by a sender that died is waited out until its write can no longer land', async () => {
    const fence = new WriteFence(shared.db, { landMs: 30_000, heartbeatMs: 5_000, pollMs: 50 });
    // What a daemon killed mid-PUT leaves: its mark, which no heartbeat moves and no answer removes.
    await shared.db.query("INSERT INTO cloudflare_writes_in_flight (lock_key, writer, landed_by) VALUES ('test:dead', 'dead', now() + interval '800 milliseconds')");
    const started = Date.now();
    await fence.settle('test:dead');
    assert.ok(Date.now() - started >= 700, `settled after ${Date.now() - started} ms, before the write could no longer land`);
    // A write of its own afterwards marks and unmarks the key.
    assert.equal(await fence.send('test:dead', async () => 'sent'), 'sent');
    const { rows } = await shared.db.query("SELECT 1 FROM cloudflare_writes_in_flight WHERE lock_key = 'test:dead'");
    assert.equal(rows.length, 0, 'no mark left once the write has answered');
  });
});
