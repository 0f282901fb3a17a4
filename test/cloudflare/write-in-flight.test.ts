/**
 * A daemon that loses its sync lock (its database connection dropped, or it died) with a
 * tunnel configuration PUT or a DNS change already sent: it can still land. The next holder must
 * not read before that, or the late write undoes its own.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { SupervisorApp } from '../../src/app.js';
import type { Db } from '../../src/core/db.js';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { WriteFence } from '../../src/cloudflare/write-fence.js';
import { startFakeCloudflare, type FakeCloudflare } from '../fakes/cloudflare/index.js';
import { ACCOUNT, ALL_PERMISSIONS, TOKEN } from './fixture.js';
import { skipReason } from '../helpers/db.js';
import { openSharedDaemons, type SharedDaemons } from '../helpers/shared-daemons.js';
import { within } from '../helpers/wait.js';

const admin = adminPrincipal('test-admin');

/** Ends the database session holding the lock `name` of the shared schema: its holder loses it, whatever it has sent. */
async function endLockSession(db: Db, name: string): Promise<void> {
  const { rows } = await db.query<{ ended: boolean }>(
    `SELECT pg_terminate_backend(pid) AS ended FROM pg_locks
     WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended(current_schema() || ':' || $1::text, 0)`,
    [name],
  );
  assert.deepEqual(rows, [{ ended: true }], `the session holding ${name} ended`);
}

const pending = (fake: FakeCloudflare, method: string, pathPart: string) => fake.calls.some((c) => c.method === method && c.path.includes(pathPart) && c.status === 0);

describe('a Cloudflare write still in flight when its daemon lost the sync lock [postgres]', { skip: await skipReason('postgres') }, () => {
  let fake: FakeCloudflare;
  let shared: SharedDaemons;
  let tunnelId: string;
  let zoneId: string;
  before(async () => {
    fake = await startFakeCloudflare();
    fake.addToken(TOKEN, ALL_PERMISSIONS);
    zoneId = fake.addZone('example.com', { accountId: ACCOUNT }).id;
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
    await within(5_000, "A's PUT is on the wire", () => pending(fake, 'PUT', '/configurations'));
    await endLockSession(shared.db, `tunnel:${tunnelId}`);
    await b.invoke('add_tunnel_route', { hostname: 'b.example.com', service: 'http://localhost:4002' });
    await first;
    const hostnames = fake.tunnelConfig(ACCOUNT, tunnelId)!.config.ingress.map((r) => r.hostname).filter(Boolean);
    assert.deepEqual(hostnames.sort(), ['a.example.com', 'b.example.com'], 'both routes are in the tunnel');
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
    await fence.settle('test:dead');
    assert.ok(Date.now() - started >= 700, `settled after ${Date.now() - started} ms, before the write could no longer land`);
    // A write of its own afterwards marks and unmarks the key.
    assert.equal(await fence.send('test:dead', async () => 'sent'), 'sent');
    const { rows } = await shared.db.query("SELECT 1 FROM cloudflare_writes_in_flight WHERE lock_key = 'test:dead'");
    assert.equal(rows.length, 0, 'no mark left once the write has answered');
  });
});
