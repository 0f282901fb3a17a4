import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CLI_BIN, cliByPath } from '../core/cli-path.js';
import { onPath } from '../core/executable.js';

/** This checkout's CLI program (dist/cli/main.js) by absolute path: what the systemd unit starts. */
export const CLI_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

/**
 * Node flags for the long-running daemon (npm start, the systemd unit). V8 grows the young
 * generation to 16 MB per semi-space while modules load and never gives it back: ~20 MB of
 * an idle daemon's RSS. At 2 MB an idle daemon on the embedded database takes ~140 MB instead
 * of ~150 MB at 4 MB (bench/daemon-rss.ts, runs alternated). A busy daemon collects young
 * garbage more often: secret reads and /healthz kept their requests/s, whoami lost ~20%
 * (bench/rest.ts). package.json's start script repeats them (a test holds the two equal).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * How to type this CLI so it works from any directory: `supervisor` when that name on
 * PATH is this checkout (npm link), else node and the entry by absolute path.
 */
export function cliCommand(env: NodeJS.ProcessEnv = process.env): string {
  const isThisCheckout = (file: string) => realpathSync(file) === realpathSync(CLI_BIN);
  return onPath('supervisor', isThisCheckout, env) ? 'supervisor' : cliByPath();
}
