// Tunnel rules synced by a version that did not keep their service claim no port until the next
// sync; until then every start says so, naming the command that ends it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../../src/core/db-pglite.js';
import { dataDirFiles } from '../../src/core/datadir.js';
import { assertCliBuilt, cliEnv, describeResult, runCli } from '../cli/run-cli.js';

const homes: string[] = [];
after(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

test('rules an older version synced without their service are warned about, with the fix, until a sync writes it', async () => {
  assertCliBuilt();
  const home = await mkdtemp(join(tmpdir(), 'supervisor-upgrade-'));
  homes.push(home);
  const env = cliEnv(home);
  const first = await runCli(['project', 'add', 'alpha'], { env });
  assert.equal(first.code, 0, describeResult(first));
  assert.doesNotMatch(first.stderr, /tunnel rule/);
  // As the older version left it: a rule it wrote for an allocation since released, with no service.
  const db = await openPglite({ dataDir: dataDirFiles(home).db });
  await db.query("INSERT INTO tunnel_owned_rules (tunnel_id, hostname, path, service) VALUES ('t-1', 'api.alpha.example.com', '', NULL)");
  await db.close();
  const next = await runCli(['project', 'list'], { env });
  assert.equal(next.code, 0, describeResult(next));
  assert.match(next.stderr, /^supervisor: warning: 1 tunnel rule synced by an older version does not say which port it routes to: run supervisor tunnel sync once, or a port released before the upgrade may be handed to a new service while the tunnel still routes to it$/m);
});
