/**
 * A CLI call through the daemon, and `--help`, cost little more than starting node
 * (bench/cli.ts prints the figures): what the command line loads before it knows
 * it must open the data dir stays free of the catalog, zod, yaml, the database
 * drivers and every domain. Heavier modules are imported where they are needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importClosure } from '../helpers/import-closure.js';

test('the command line loads nothing heavy before it opens the data dir', () => {
  for (const entry of ['cli/main.ts', 'cli/program.ts', 'cli/manifest.ts']) {
    const loaded = importClosure(entry);
    const heavy = loaded.filter(
      (m) =>
        /^(zod|yaml|pg|fastify|pino|@modelcontextprotocol\/|@electric-sql\/|@googleapis\/)/.test(m) ||
        /^(app|daemon)\.ts$|^(auth|secrets|ports|cloudflare|projects|instructions|gcloud|agent|tasks|knowledge|settings|http|mcp)\//.test(m) ||
        /^catalog\/(catalog|wire|json-schema|local-invoker|validate|docs)\.ts$/.test(m) ||
        /^core\/(config|settings|names|open-db|db-|log|migrate|lock-file)/.test(m),
    );
    assert.deepEqual(heavy, [], `${entry} loads ${heavy.join(', ')}`);
  }
});

test('the daemon loads neither database client nor the MCP SDK at start: only the one in use, and the SDK at the first MCP request', () => {
  const loaded = importClosure('daemon.ts');
  const eager = loaded.filter((m) => /^(pg|@electric-sql\/pglite|@modelcontextprotocol\/)/.test(m) || /^core\/db-(postgres|pglite)\.ts$|^mcp\/server\.ts$/.test(m));
  assert.deepEqual(eager, [], `daemon.ts loads ${eager.join(', ')} at start`);
});
