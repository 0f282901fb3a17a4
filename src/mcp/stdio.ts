import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { AppDefinition } from '../catalog/wire.js';
import type { Config } from '../core/config.js';
import { connect } from '../cli/connect.js';
import { buildMcpServer } from './server.js';
import type { ToolSelection } from './toolsets.js';

/**
 * `supervisor mcp --project <p>`: MCP over stdio. Only protocol messages go to
 * stdout (logs go to stderr); when stdin closes the process exits at once.
 */
export async function serveMcpOverStdio(app: AppDefinition, config: Config, project: string, selection: ToolSelection): Promise<void> {
  const connection = await connect(app, config, { project, via: 'mcp' });
  const handle = serveStdio(() => buildMcpServer(app.catalog, connection.principal, connection.invoker, selection));
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Close what holds the database (lock, pending call records), then leave even if something lingers.
    const force = setTimeout(() => process.exit(0), 500);
    force.unref();
    void Promise.allSettled([handle.close(), connection.close()]).then(() => process.exit(0));
  };
  process.stdin.once('end', stop);
  process.stdin.once('close', stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
