// Connection poolers such as PgBouncer refuse a connection whose startup packet carries a parameter
// they do not know ("unsupported startup parameter"). The daemon's connections carry only what
// every pooler takes; its session settings (statement limit, keepalives) are statements sent after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { openPostgres } from '../../src/core/db-postgres.js';
import { isError } from '../helpers/errors.js';

/** The parameters of a PostgreSQL StartupMessage: length, protocol 3.0, then name/value strings ending in an empty one. */
function startupParameters(packet: Buffer): Record<string, string> {
  assert.equal(packet.readInt32BE(4), 196608, 'protocol 3.0');
  const fields = packet.subarray(8, packet.readInt32BE(0)).toString('utf8').split('\0');
  const params: Record<string, string> = {};
  for (let i = 0; fields[i]; i += 2) params[fields[i]!] = fields[i + 1] ?? '';
  return params;
}

test('the startup packet carries only the parameters every pooler knows; the statement limit is not one of them', async () => {
  const seen: Array<Record<string, string>> = [];
  const server = createServer((socket: Socket) => {
    let data = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      if (data.length < 4 || data.length < data.readInt32BE(0)) return;
      seen.push(startupParameters(data));
      // As PgBouncer does with a parameter it does not know: refuse, and close.
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await assert.rejects(openPostgres({ connectionString: `postgres://someone@127.0.0.1:${port}/db`, statementTimeoutMs: 5_000, connectTimeoutMs: 2_000 }), isError('unavailable', /cannot connect to PostgreSQL/));
    assert.ok(seen.length > 0, 'a connection was attempted');
    for (const params of seen) assert.deepEqual(Object.keys(params).sort(), ['client_encoding', 'database', 'user']);
  } finally {
    server.close();
  }
});

test('sslmode=prefer against a server without TLS says to use sslmode=disable (node-postgres insists on TLS for it, unlike libpq)', async () => {
  // Answers the SSLRequest as a server without TLS does: a single 'N'.
  const server = createServer((socket: Socket) => socket.once('data', () => socket.write('N')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    await assert.rejects(
      openPostgres({ connectionString: `postgres://someone@127.0.0.1:${port}/db?sslmode=prefer`, connectTimeoutMs: 2_000 }),
      isError('unavailable', /^cannot connect to PostgreSQL: The server does not support SSL connections \(node-postgres insists on TLS for any sslmode but disable: use sslmode=disable for this server\); check DATABASE_URL$/),
    );
  } finally {
    server.close();
  }
});
