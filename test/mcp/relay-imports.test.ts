/**
 * The stdio relay is started by Claude Code for every session, so what it loads is
 * its start-up cost: everything `supervisor mcp` imports before it knows it can relay
 * must stay free of the catalog, zod, the MCP SDK and the database drivers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importClosure } from '../helpers/import-closure.js';

test('the relay and the CLI entries load nothing heavy before relaying', () => {
  for (const entry of ['mcp/relay.ts', 'cli/launcher.ts', 'cli/main.ts']) {
    const loaded = importClosure(entry);
    const heavy = loaded.filter((m) => /^(zod|yaml|pg|fastify|pino|@modelcontextprotocol\/|@electric-sql\/|@googleapis\/)/.test(m) || /^(catalog|app\.ts|secrets|ports|cloudflare|projects)/.test(m));
    assert.deepEqual(heavy, [], `${entry} loads ${heavy.join(', ')}`);
  }
});
