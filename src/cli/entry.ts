import { fileURLToPath } from 'node:url';

/** This checkout's CLI entry (dist/cli/main.js) by absolute path: what Claude Code and systemd start. */
export const CLI_ENTRY = fileURLToPath(new URL('./main.js', import.meta.url));

/** A word for a shell command line: quoted when it holds anything but safe characters. */
export const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
