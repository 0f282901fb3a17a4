import { constants } from 'node:os';
import type { Config } from '../core/config.js';
import { startDaemon } from '../daemon.js';
import { DAEMON_STOP_LIMIT_S } from './daemon-control.js';
import { cliCommand } from './entry.js';

const STOP_LIMIT_MS = DAEMON_STOP_LIMIT_S * 1000;
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * `supervisor daemon` / `npm start`: runs until SIGINT, SIGTERM or SIGHUP, then stops
 * accepting, lets in-flight requests finish, flushes buffered audit rows, closes
 * the database and removes daemons/<pid>.json (all in daemon.close()), and exits 0.
 */
export async function runDaemonCommand(config: Config): Promise<number> {
  // A stop asked for while starting (`daemon stop` finds a starting daemon by its mark) waits for the
  // start to finish: by its default action it would end the daemon while it opens its database. A
  // second one (a start stuck waiting for PostgreSQL) ends it at once.
  let early: NodeJS.Signals | undefined;
  const whileStarting = (name: NodeJS.Signals) => {
    if (early) process.exit(128 + (constants.signals[name] ?? 0));
    early = name;
    process.stderr.write(`supervisor daemon: ${name} while starting; it stops once started (${name} again stops it now)\n`);
  };
  for (const name of STOP_SIGNALS) process.on(name, whileStarting);
  const daemon = await startDaemon(config);
  for (const name of STOP_SIGNALS) process.off(name, whileStarting);
  // SIGHUP too: the terminal of a foreground `npm start` closing must not cut a write or the read-audit buffer short.
  // Listened for before the banner: whoever waits for its "Stop:" line may signal at once, and
  // a signal arriving before the listeners would end the daemon by its default action, unclean.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    if (early) return resolve(early);
    for (const name of STOP_SIGNALS) process.once(name, () => resolve(name));
  });
  const out = process.stdout;
  out.write(`Supervisor daemon on ${daemon.url} (database: ${daemon.services.db.kind}, data dir: ${config.home})\n`);
  out.write(`  dashboard  ${daemon.url}/\n  REST       ${daemon.url}/api/v1 (OpenAPI: ${daemon.url}/api/v1/openapi.json)\n  MCP        ${daemon.url}/mcp/<project> (admin: /mcp/meta)\n`);
  if (daemon.initialAdminToken) {
    out.write(`\nAdmin token — shown once, store it now (only its hash is kept):\n  ${daemon.initialAdminToken}\n`);
    out.write(`Connect Claude Code:\n  claude mcp add --transport http meta ${daemon.url}/mcp/meta --header "Authorization: Bearer ${daemon.initialAdminToken}"\n`);
  }
  for (const line of await daemon.services.settings.disagreements()) out.write(`Note: ${line}\n`);
  // Said where the person looks: the audit will call this port a conflict until one of them moves.
  if (daemon.portProblem) out.write(`Warning: this daemon's port ${new URL(daemon.url).port} is not reserved for it: ${daemon.portProblem}\n`);
  const cli = cliCommand();
  out.write(`\nConnect Claude Code to a project: ${cli} connect claude --project <name>\n`);
  out.write(`Lost the admin token? As the owner of the data dir: ${cli} token create <name> --admin\n`);
  out.write(`Stop: Ctrl-C, SIGTERM or ${cli} daemon stop${cli === 'supervisor' ? '' : '   (to type just `supervisor`: npm link in the clone)'}\n`);
  const signal = await stopped;
  daemon.services.log.info({ signal }, 'stopping');
  const limit = setTimeout(() => {
    daemon.services.log.error({ limitMs: STOP_LIMIT_MS }, 'stop took too long; exiting without finishing it');
    process.exit(1);
  }, STOP_LIMIT_MS);
  limit.unref();
  await daemon.close();
  clearTimeout(limit);
  process.stderr.write(`supervisor daemon stopped (${signal})\n`);
  return 0;
}
