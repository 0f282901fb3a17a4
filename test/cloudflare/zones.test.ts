// Zones appear in Cloudflare while the daemon runs; the supervisor notices without a restart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openCloudflareFixture } from './fixture.js';

test('a zone added after the first call is found by list_dns_records', async () => {
  const f = await openCloudflareFixture('pglite');
  try {
    await f.invoke('list_dns_records', {});
    const late = f.fake.addZone('late.example.org');
    f.fake.addRecord(late.id, { type: 'A', name: 'www.late.example.org', content: '192.0.2.7', proxied: false, ttl: 300 });
    const listed = await f.invoke('list_dns_records', { zone: 'late.example.org' });
    assert.deepEqual((listed.items as Array<{ name: string }>).map((r) => r.name), ['www.late.example.org']);
    await assert.rejects(f.invoke('list_dns_records', { zone: 'never.example.org' }), /zone never\.example\.org is not managed/);
  } finally {
    await f.close();
  }
});
