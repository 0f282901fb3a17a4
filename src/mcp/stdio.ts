import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { catalog } from '../catalog/index.js';
import type { Config } from '../core/config.js';
import { connect } from '../cli/connect.js';
import { buildMcpServer } from './server.js';

/**
 * `supervisor mcp --project <p>`: MCP over stdio. Only protocol messages go to
 * stdout (logs go to stderr); when stdin closes the process exits at once.
 */
export async function serveMcpOverStdio(config: Config, project: string): Promise<void> {
  const connection = await connect(config, { project, via: 'mcp' });
  const handle = serveStdio(() => buildMcpServer(catalog, connection.principal, connection.invoker));
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
