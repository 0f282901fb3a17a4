// Bundles dist/cli/launcher.js (tsc's output, so type-checked) and the relay it loads into
// one CommonJS file, dist/cli/supervisor.cjs: the `supervisor` bin (see src/cli/launcher.ts).
import { chmod } from 'node:fs/promises';
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/cli/launcher.js'],
  outfile: 'dist/cli/supervisor.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // CommonJS has no import.meta: the bundle's own URL, from the __filename CommonJS gives it.
  banner: { js: "#!/usr/bin/env node\n'use strict';\nconst importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': 'importMetaUrl' },
  logLevel: 'warning',
});
// Runnable as it is (./dist/cli/supervisor.cjs), as npm makes a bin it links.
await chmod('dist/cli/supervisor.cjs', 0o755);
