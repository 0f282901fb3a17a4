// Bare fastify, nothing else (no auth, no catalog, no audit), run as a child process by
// bench/rest.ts; prints its URL on stdout. Two routes:
// - /row: one prepared SELECT on a pg pool, the floor for an uncached read on this machine;
// - /spin?us=N: spins N µs of CPU, then answers a constant. Its curve shows what N µs of
//   handler work costs in requests/s on this machine, where the load generator shares the cores.
import Fastify from 'fastify';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../test/helpers/db.js';

const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 10 });
const app = Fastify();
app.get('/row', async () => {
  const { rows } = await pool.query({ name: 'floor', text: 'SELECT $1::text AS path, now() AS at', values: ['project/bench/api_key'] });
  return rows[0];
});
app.get('/spin', async (request) => {
  const until = process.hrtime.bigint() + BigInt(Number((request.query as { us?: string }).us ?? 0) * 1000);
  while (process.hrtime.bigint() < until);
  return { status: 'ok' };
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
if (address && typeof address === 'object') console.log(`http://127.0.0.1:${address.port}`);
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
