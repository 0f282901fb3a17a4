/**
 * The installed `supervisor` command (package.json's bin), built into one CommonJS
 * file, dist/cli/supervisor.cjs (scripts/bundle-launcher.mjs). Claude Code starts
 * `supervisor mcp` for every session: as one CommonJS file the relay is answering
 * ~8 ms sooner than through Node's ESM loader and the five modules of
 * dist/cli/main.js (80 vs 88 ms here, `node -e 0` 56 ms). Every other command, and
 * `mcp` without a daemon, is main.js, imported from here.
 */
import { relayIfDaemon } from '../mcp/relay.js';
import { endQuietlyWhenOutputCloses } from './closed-pipe.js';

const argv = process.argv.slice(2);

async function launch(): Promise<void> {
  if (argv[0] !== 'daemon') endQuietlyWhenOutputCloses();
  // A refusal of the daemon's is said by main.js, which asks again, in the full CLI's words.
  if (argv[0] === 'mcp' && (await relayIfDaemon(argv.slice(1)).catch(() => false))) return;
  // A specifier the bundler leaves alone: main.js stays the ES module program it is.
  const main = new URL('./main.js', import.meta.url).href;
  await import(main);
}

launch().catch((err: unknown) => {
  process.stderr.write(`supervisor: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
