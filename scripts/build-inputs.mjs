// What the build reads (src/, the build scripts, the lockfile, the tsconfigs), as one hash.
//   node scripts/build-inputs.mjs clear   forgets it (the build's first step: a build that fails
//                                         half-way leaves dist/ matching no inputs)
//   node scripts/build-inputs.mjs write   records it in dist/ (the build's last step)
//   node scripts/build-inputs.mjs fresh   exits 0 when dist/ was built from exactly these inputs
// `npm test` builds first, since the CLI and daemon tests run dist/, but not when nothing has
// changed since the last build: right after `npm ci` or `npm install`, which built, that second
// build is ~17 s of nothing.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STAMP = 'dist/build-inputs.txt';
const INPUTS = ['src', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];

function files(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path).sort().flatMap((name) => files(join(path, name)));
}

function inputsHash() {
  const hash = createHash('sha256');
  for (const file of INPUTS.flatMap(files)) hash.update(`${file}\0`).update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

const [verb] = process.argv.slice(2);
if (verb === 'clear') rmSync(STAMP, { force: true });
else if (verb === 'write') writeFileSync(STAMP, `${inputsHash()}\n`);
else if (verb === 'fresh') process.exitCode = existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === inputsHash() ? 0 : 1;
else {
  console.error('usage: node scripts/build-inputs.mjs clear|write|fresh');
  process.exitCode = 2;
}
