// `npm run docs`: rewrites the generated parts of README.md (settings and toolsets tables)
// from the domain manifests. test/core/readme.test.ts fails when they are out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { catalog, DOMAINS } from '../src/app.js';
import { replaceBetweenMarkers, settingsTable, toolsetsTable } from '../src/catalog/docs.js';

const path = new URL('../README.md', import.meta.url);
let readme = readFileSync(path, 'utf8');
readme = replaceBetweenMarkers(readme, 'settings', settingsTable(DOMAINS));
readme = replaceBetweenMarkers(readme, 'toolsets', toolsetsTable(catalog.toolsets));
writeFileSync(path, readme);
