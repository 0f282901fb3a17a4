// The floor for an uncached read on this machine: bare fastify with one route doing one
// prepared SELECT on a pg pool, nothing else (no auth, no catalog, no audit). Run as a
// child process by bench/rest.ts; prints its URL on stdout.
import Fastify from 'fastify';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../test/helpers/db.js';

const pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 10 });
const app = Fastify();
app.get('/row', async () => {
  const { rows } = await pool.query({ name: 'floor', text: 'SELECT $1::text AS path, now() AS at', values: ['project/bench/api_key'] });
  return rows[0];
});
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
if (address && typeof address === 'object') console.log(`http://127.0.0.1:${address.port}`);
process.on('SIGTERM', () => void app.close().then(() => pool.end()).then(() => process.exit(0)));
