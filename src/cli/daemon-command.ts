import type { Config } from '../core/config.js';
import { startDaemon } from '../daemon.js';

/** `supervisor daemon` / `npm start`: runs until SIGINT or SIGTERM. */
export async function runDaemonCommand(config: Config): Promise<number> {
  const daemon = await startDaemon(config);
  const out = process.stdout;
  out.write(`Supervisor daemon on ${daemon.url} (database: ${daemon.services.db.kind}, data dir: ${config.home})\n`);
  out.write(`  dashboard  ${daemon.url}/\n  REST       ${daemon.url}/api/v1 (OpenAPI: ${daemon.url}/api/v1/openapi.json)\n  MCP        ${daemon.url}/mcp/<project> (admin: /mcp/meta)\n`);
  if (daemon.initialAdminToken) {
    out.write(`\nAdmin token — shown once, store it now (only its hash is kept):\n  ${daemon.initialAdminToken}\n`);
    out.write(`Connect Claude Code:\n  claude mcp add --transport http meta ${daemon.url}/mcp/meta --header "Authorization: Bearer ${daemon.initialAdminToken}"\n`);
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await daemon.close();
  return 0;
}
