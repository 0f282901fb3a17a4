// Daemons sharing one PostgreSQL schema and one fake Cloudflare: a remote tunnel and the zone
// example.com, the API token stored once for all of them.
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/core/db.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { startFakeCloudflare, type FakeCloudflare } from '../fakes/cloudflare/index.js';
import { openSharedDaemons, type SharedDaemons } from '../helpers/shared-daemons.js';
import { ACCOUNT, ALL_PERMISSIONS, TOKEN } from './fixture.js';

export interface SharedCloudflare {
  fake: FakeCloudflare;
  shared: SharedDaemons;
  tunnelId: string;
  zoneId: string;
  close(): Promise<void>;
}

export async function openSharedCloudflare(count: number, options: { wrap?: (db: Db, index: number) => Db } = {}): Promise<SharedCloudflare> {
  const fake = await startFakeCloudflare();
  fake.addToken(TOKEN, ALL_PERMISSIONS);
  const zoneId = fake.addZone('example.com', { accountId: ACCOUNT }).id;
  const tunnelId = randomUUID();
  fake.addTunnel(ACCOUNT, tunnelId);
  try {
    const shared = await openSharedDaemons(count, {
      wrap: options.wrap,
      env: { SUPERVISOR_CLOUDFLARE_API_URL: fake.url, SUPERVISOR_CLOUDFLARE_TUNNEL_MODE: 'remote', SUPERVISOR_CLOUDFLARE_TUNNEL_ID: tunnelId, SUPERVISOR_CLOUDFLARE_ACCOUNT_ID: ACCOUNT },
    });
    await shared.apps[0]!.secrets.set(adminPrincipal('test-admin'), { path: 'meta/cloudflare/api_token', value: TOKEN });
    return {
      fake,
      shared,
      tunnelId,
      zoneId,
      async close() {
        await shared.close();
        await fake.close();
      },
    };
  } catch (err) {
    await fake.close();
    throw err;
  }
}
