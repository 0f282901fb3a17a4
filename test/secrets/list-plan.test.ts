import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminPrincipal } from '../../src/core/principal.js';
import { LIST_SQL } from '../../src/secrets/service.js';
import { prefixBounds } from '../../src/secrets/paths.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

const admin = adminPrincipal('test-admin');
const OTHERS = 100_000;

/** Every node of an EXPLAIN (FORMAT JSON) plan. */
function nodes(plan: Record<string, unknown>): Array<Record<string, unknown>> {
  const children = (plan.Plans as Array<Record<string, unknown>> | undefined) ?? [];
  return [plan, ...children.flatMap(nodes)];
}

for (const backend of testBackends()) {
  describe(`list_secrets with a prefix keeps the path index in the generic plan [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    before(async () => {
      s = await openTestServices(backend);
      for (const key of ['a', 'b_c', 'deep/d']) await s.secrets.set(admin, { path: `project/target/${key}`, value: key });
      // 100,000 other secrets (metadata rows are all a listing reads).
      await s.db.query(
        `INSERT INTO secrets (path, current_version, value_changed_at, created_at, updated_at)
         SELECT 'project/p' || (i % 1000) || '/key' || i, 1, now(), now(), now() FROM generate_series(1, $1::int) AS i`,
        [OTHERS],
      );
      await s.db.query('ANALYZE secrets');
    });
    after(() => s.close());

    test("the first page's generic plan reads the path index, and the listing is right", async () => {
      const bounds = prefixBounds('project/target/');
      const plan = await s.db.transaction(async (tx) => {
        // A named statement switches to its generic plan after five runs; force it at once.
        await tx.query('SET LOCAL plan_cache_mode = force_generic_plan');
        await tx.query(`PREPARE list_plan(text, text, boolean, boolean, int, text[], text) AS ${LIST_SQL}`);
        try {
          const { rows } = await tx.query<{ 'QUERY PLAN': Array<{ Plan: Record<string, unknown> }> }>(
            `EXPLAIN (FORMAT JSON) EXECUTE list_plan('${bounds.lower}', '', false, true, 51, '{}', '${bounds.upper}')`,
          );
          const json = rows[0]!['QUERY PLAN'];
          return (typeof json === 'string' ? JSON.parse(json) : json)[0]!.Plan as Record<string, unknown>;
        } finally {
          await tx.query('DEALLOCATE list_plan');
        }
      });
      const all = nodes(plan);
      assert.ok(all.some((n) => n['Index Name'] === 'secrets_path_pattern'), `no index scan on secrets_path_pattern: ${JSON.stringify(plan)}`);
      assert.ok(!all.some((n) => n['Node Type'] === 'Seq Scan'), `a sequential scan: ${JSON.stringify(plan)}`);

      const page = await s.secrets.list(admin, { prefix: 'project/target/', recursive: true, includeDeleted: false, limit: 50 });
      assert.deepEqual(page.items.map((i) => i.path), ['project/target/a', 'project/target/b_c', 'project/target/deep/d']);
      const flat = await s.secrets.list(admin, { prefix: 'project/target', recursive: false, includeDeleted: false, limit: 50 });
      assert.deepEqual([flat.items.map((i) => i.path), flat.folders], [['project/target/a', 'project/target/b_c'], ['project/target/deep/']]);
      // A prefix is a folder: project/p1/ is not project/p10/ (nor does _ match any character).
      const p1 = await s.secrets.list(admin, { prefix: 'project/p1', recursive: true, includeDeleted: false, limit: 500 });
      assert.equal(p1.items.length, OTHERS / 1000);
      assert.ok(p1.items.every((i) => i.path.startsWith('project/p1/')));
    });
  });
}
