import type { AppDefinition } from '../catalog/wire.js';
import type { Config } from '../core/config.js';
import { connect } from '../cli/connect.js';
import { LineTransport } from './line-transport.js';
import { buildMcpServer } from './server.js';
import type { ToolSelection } from './toolsets.js';

/**
 * `supervisor mcp --project <p>` without a daemon: the MCP server runs in this
 * process on the data dir (the relay in relay.ts serves when the daemon runs).
 * Only protocol messages go to stdout (logs go to stderr). When stdin closes, the
 * answers still on their way are written, the database and its lock are released,
 * and the process ends.
 */
export async function serveMcpOverStdio(app: AppDefinition, config: Config, project: string, selection: ToolSelection): Promise<void> {
  const connection = await connect(app, config, { project, via: 'mcp' });
  const transport = new LineTransport(process.stdin, process.stdout);
  const server = buildMcpServer(app.catalog, connection.principal, connection.invoker, selection);
  await server.connect(transport);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Close what holds the database (lock, pending call records), then leave even if something lingers.
    const force = setTimeout(() => process.exit(0), 5_000);
    force.unref();
    void Promise.allSettled([server.close(), connection.close()]).then(() => process.exit(0));
  };
  void transport.ended.then(stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
