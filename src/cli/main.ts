#!/usr/bin/env node
// Everything this process creates (the embedded database, key files, daemons/<pid>.json) is for its owner only.
process.umask(0o077);

/**
 * The command line, with one fast path: `supervisor mcp` while the daemon runs is a
 * thin relay (Claude Code starts it for every session), so nothing heavier than the
 * relay is loaded before it knows it can relay. Every other command loads its
 * commands from the build's manifest and the app only when it opens the data dir.
 */
async function main(argv: string[]): Promise<number> {
  if (argv[0] !== 'daemon') (await import('./closed-pipe.js')).endQuietlyWhenOutputCloses();
  let refused: unknown;
  if (argv[0] === 'mcp') {
    const { relayIfDaemon } = await import('../mcp/relay.js');
    try {
      if (await relayIfDaemon(argv.slice(1))) return -1;
    } catch (err) {
      refused = err;
    }
  }
  const [{ mcpRefusedByDaemon, runCli }, { supervisorSource }] = await Promise.all([import('./program.js'), import('./manifest.js')]);
  return refused === undefined ? runCli(argv, supervisorSource) : mcpRefusedByDaemon(refused, supervisorSource);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`supervisor: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
