import { fileURLToPath } from 'node:url';

/**
 * This checkout's installed command (package.json bin, dist/cli/supervisor.cjs) by absolute
 * path: what people and Claude Code start (see cli/launcher.ts for why it is a separate file).
 * In core because generated instructions name it too.
 */
// From the checkout's root: this module runs from dist/core, and from src/core under tsx (the
// demo, the tests), where a path next to the module named a file that is not there.
export const CLI_BIN = fileURLToPath(new URL('../../dist/cli/supervisor.cjs', import.meta.url));

/** A word for a shell command line: quoted when it holds anything but safe characters. */
export const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** The CLI as node and its entry by absolute path: works in any shell on this host, whatever PATH holds. */
export const cliByPath = (): string => `node ${shellWord(CLI_BIN)}`;
