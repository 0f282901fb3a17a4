// Notes stored before accents were folded are found by a search with or without them once the
// database is upgraded: the migration recomputes the index of every stored chunk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DOMAINS } from '../../src/app.js';
import type { Db } from '../../src/core/db.js';
import { migrate } from '../../src/core/migrate.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { KnowledgeService, type KnowledgeServiceDeps } from '../../src/knowledge/service.js';
import { openTestDb, skipReason, testBackends } from '../helpers/db.js';

const FOLDING = '202612011200_knowledge_accent_folding.sql';

/** The knowledge migrations as they were before accent folding. */
function olderKnowledgeMigrations(): string {
  const from = fileURLToPath(new URL('../../src/knowledge/migrations/', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'supervisor-old-knowledge-'));
  for (const f of readdirSync(from).filter((f) => f < FOLDING)) copyFileSync(join(from, f), join(dir, f));
  return dir;
}

for (const backend of testBackends()) {
  describe(`upgrading knowledge stored before accent folding [${backend}]`, { skip: await skipReason(backend) }, () => {
    let db: Db;
    let dir: string;
    before(async () => {
      dir = olderKnowledgeMigrations();
      db = await openTestDb(backend, { empty: true });
      await migrate(db, DOMAINS.map((d) => (d.id === 'knowledge' ? { id: d.id, migrations: pathToFileURL(`${dir}/`) } : d)));
      const { rows } = await db.query<{ id: string }>(`INSERT INTO knowledge_docs (project, title, created_by, created_at) VALUES ('meta', 'Menu', 'test', now()) RETURNING id`);
      await db.query(`INSERT INTO knowledge_chunks (doc_id, project, chunk_index, title, text) VALUES ($1, 'meta', 0, 'Menu', 'The café opens at nine.')`, [rows[0]!.id]);
    });
    after(async () => {
      await db?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('after the upgrade, cafe finds the stored café note', async () => {
      assert.deepEqual(await migrate(db, DOMAINS), [`knowledge/${FOLDING.replace(/\.sql$/, '')}`]);
      // search reads the database only.
      const knowledge = new KnowledgeService({ db } as unknown as KnowledgeServiceDeps);
      for (const query of ['cafe', 'café']) {
        const { results } = await knowledge.search(adminPrincipal('test'), { query });
        assert.deepEqual(results.map((r) => [r.title, r.snippet]), [['Menu', '**café** opens at nine']], query);
      }
    });
  });
}
