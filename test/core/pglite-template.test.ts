/**
 * The build's template cluster (scripts/write-pglite-template.mjs): an embedded database's first
 * start unpacks it instead of running initdb, and one that cannot be used (a PGlite upgraded
 * without a rebuild) is no reason to fail: the cluster is made from scratch. Run against the
 * build, where the template is.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openPglite } from '../../src/core/db-pglite.js';
import { assertCliBuilt, REPO_ROOT } from '../cli/run-cli.js';

const run = promisify(execFile);
let root: string;
before(async () => {
  assertCliBuilt();
  root = await mkdtemp(join(tmpdir(), 'supervisor-template-'));
});
after(() => rm(root, { recursive: true, force: true }));

/** Makes a cluster in `dir` with the init script of `dist` (as a first start does); its stderr. */
async function init(dist: string, dir: string): Promise<string> {
  const { stderr } = await run(process.execPath, [join(dist, 'core', 'pglite-init.js'), dir, '[]'], { timeout: 120_000 });
  return stderr;
}

async function systemId(dir: string): Promise<string> {
  const db = await openPglite({ dataDir: dir });
  try {
    await db.query('CREATE TABLE IF NOT EXISTS works (v int)');
    return (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;
  } finally {
    await db.close();
  }
}

describe("the build's database template", () => {
  test('a first start unpacks it: two new clusters are the same cluster (one system identifier), each usable', async () => {
    const dist = join(REPO_ROOT, 'dist');
    const [a, b] = [join(root, 'a'), join(root, 'b')];
    assert.equal(await init(dist, a), '');
    assert.equal(await init(dist, b), '');
    assert.equal(await systemId(a), await systemId(b));
  });

  test('one that cannot be used is said on stderr and the cluster is made from scratch', async () => {
    // A copy of the build inside the checkout (so its imports find node_modules), with a broken template.
    const dist = join(REPO_ROOT, `.dist-template-test-${process.pid}`);
    try {
      await cp(join(REPO_ROOT, 'dist', 'core'), join(dist, 'core'), { recursive: true });
      await writeFile(join(dist, 'core', 'pglite-template.tar.gz'), 'not a tarball');
      const [fresh, unpacked] = [join(root, 'fresh'), join(root, 'unpacked')];
      assert.match(await init(dist, fresh), /^the build's database template could not be used \(.+\); creating the database from scratch\n$/);
      await init(join(REPO_ROOT, 'dist'), unpacked);
      assert.notEqual(await systemId(fresh), await systemId(unpacked), 'made by initdb, not from the template');
    } finally {
      await rm(dist, { recursive: true, force: true });
    }
  });
});
