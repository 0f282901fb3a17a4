/**
 * Whether a process's command line runs `expected` (an allocation's recorded owner command):
 * its words appear in the line as whole words, in a row. A word matches the same word or a path
 * ending in it, so `server.js` is `node /srv/app/dist/server.js` and `node` is `/usr/bin/node`.
 * A piece of a word is not enough: `e` or `js` would match almost any process and make the
 * audit call a stranger the owner.
 */
export function commandRuns(commandLine: string, expected: string): boolean {
  const want = words(expected);
  const have = words(commandLine);
  if (want.length === 0) return false;
  for (let i = 0; i + want.length <= have.length; i++) {
    if (want.every((w, j) => sameWord(have[i + j]!, w))) return true;
  }
  return false;
}

const words = (text: string): string[] => text.split(/\s+/).filter((w) => w !== '');

const sameWord = (have: string, want: string): boolean => have === want || (!want.startsWith('/') && have.endsWith(`/${want}`));
