import { readdirSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Framework code every domain may use; adapters that no domain may import. */
const FRAMEWORK = ['core', 'catalog'];
const ADAPTERS = ['http', 'mcp', 'cli'];
const DOMAINS = readdirSync(new URL('./src/', import.meta.url), { withFileTypes: true })
  .filter((e) => e.isDirectory() && !FRAMEWORK.includes(e.name) && !ADAPTERS.includes(e.name))
  .map((e) => e.name);

/** From a file `depth` folders below its domain folder: other domains only through their index.js, no adapters, no app. */
const domainBoundary = (up) => ({
  group: [`${up}*/*`, ...FRAMEWORK.map((f) => `!${up}${f}/*`), `!${up}*/index.js`, `${up}app.js`, `${up}daemon.js`],
  message: "A domain imports core/catalog code and other domains' public entry (../<domain>/index.js) only, never another domain's internals, an adapter or the app.",
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/**/__snapshots__/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  {
    files: DOMAINS.map((d) => `src/${d}/*.ts`),
    rules: { 'no-restricted-imports': ['error', { patterns: [domainBoundary('../')] }] },
  },
  {
    files: DOMAINS.map((d) => `src/${d}/*/**/*.ts`),
    rules: { 'no-restricted-imports': ['error', { patterns: [domainBoundary('../../'), domainBoundary('../')] }] },
  },
  {
    // Framework code names no domain and no adapter: domains plug into it through their manifests.
    files: FRAMEWORK.map((f) => `src/${f}/**/*.ts`),
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../*/*', ...FRAMEWORK.map((f) => `!../${f}/*`), '../app.js', '../daemon.js'], message: 'core and catalog depend on no domain and no adapter.' }] }],
    },
  },
);
