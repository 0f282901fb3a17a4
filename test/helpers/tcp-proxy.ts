import net from 'node:net';
import pg from 'pg';
import { TEST_DATABASE_URL } from './db.js';

export interface SilencingProxy {
  /** TEST_DATABASE_URL through the proxy. */
  url: string;
  /**
   * The connection of server process `pid` goes silent: nothing passes either way and
   * neither end is told (a NAT or firewall that dropped an idle connection, a cable pulled).
   */
  silence(pid: number): Promise<void>;
  /** The server processes whose connections pass through the proxy, with their application names. */
  backends(): Promise<Array<{ pid: number; name: string }>>;
  /** Connections made from now on are accepted and never answered (a database host gone dark); false undoes it. */
  silenceNew(silent: boolean): void;
  close(): Promise<void>;
}

/** A TCP proxy in front of the test PostgreSQL whose connections can be made to go silent one by one. */
export async function startSilencingProxy(): Promise<SilencingProxy> {
  const target = new URL(TEST_DATABASE_URL);
  const pairs = new Set<{ down: net.Socket; up: net.Socket }>();
  const unanswered = new Set<net.Socket>();
  let dark = false;
  const server = net.createServer((down) => {
    if (dark) {
      unanswered.add(down.on('error', () => undefined).pause());
      return;
    }
    const up = net.connect(Number(target.port || 5432), target.hostname);
    const pair = { down, up };
    pairs.add(pair);
    down.pipe(up);
    up.pipe(down);
    const close = () => {
      pairs.delete(pair);
      down.destroy();
      up.destroy();
    };
    for (const socket of [down, up]) socket.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(TEST_DATABASE_URL);
  url.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const activity = async <T,>(sql: string, params: unknown[]): Promise<T[]> => {
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    return (await admin.query<T & pg.QueryResultRow>(sql, params).finally(() => admin.end())).rows;
  };
  return {
    url: url.toString(),
    backends: () =>
      activity<{ pid: number; name: string }>('SELECT pid, application_name AS name FROM pg_stat_activity WHERE client_port = ANY($1)', [[...pairs].map((p) => p.up.localPort)]),
    async silence(pid) {
      const rows = await activity<{ port: number }>('SELECT client_port AS port FROM pg_stat_activity WHERE pid = $1', [pid]);
      const pair = [...pairs].find((p) => p.up.localPort === rows[0]?.port);
      if (!pair) throw new Error(`no proxied connection for server process ${pid}`);
      pair.down.unpipe(pair.up);
      pair.up.unpipe(pair.down);
      pair.down.pause();
      pair.up.pause();
    },
    silenceNew(silent) {
      dark = silent;
    },
    async close() {
      for (const socket of unanswered) socket.destroy();
      for (const { down, up } of pairs) {
        down.destroy();
        up.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
