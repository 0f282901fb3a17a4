#!/usr/bin/env node
import { SupervisorError } from '../core/errors.js';
import { UsageError } from './usage-error.js';

// Everything this process creates (the embedded database, key files, daemon.json) is for its owner only.
process.umask(0o077);

/**
 * The command line, with one fast path: `supervisor mcp` while the daemon runs is a
 * thin relay (Claude Code starts it for every session), so nothing heavier than the
 * relay is loaded before it knows it can relay.
 */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'mcp') {
    const { relayIfDaemon } = await import('../mcp/relay.js');
    if (await relayIfDaemon(argv.slice(1))) return -1;
  }
  const [{ supervisor }, { runCli }] = await Promise.all([import('../app.js'), import('./program.js')]);
  return runCli(argv, supervisor);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`supervisor: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof SupervisorError) {
      process.stderr.write(`supervisor: ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`supervisor: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
