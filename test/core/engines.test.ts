/**
 * `engines` tells the truth: every installed package (dev tools included, since a
 * clone runs `npm install` with them) accepts every Node version our range accepts,
 * so `npm install` on a supported Node prints no EBADENGINE warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// fastify depends on semver, so it is always installed.
const semver = require('semver') as { subset(sub: string, sup: string): boolean; satisfies(version: string, range: string): boolean };
const read = (file: string) => JSON.parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')) as Record<string, unknown>;

test('every locked package accepts the Node versions package.json engines promises', () => {
  const ours = (read('package.json').engines as { node: string }).node;
  const packages = read('package-lock.json').packages as Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  const refusing = Object.entries(packages)
    .filter(([path, pkg]) => path !== '' && !Array.isArray(pkg.engines) && pkg.engines?.node && !semver.subset(ours, pkg.engines.node))
    .map(([path, pkg]) => `${path.replace(/^.*node_modules\//, '')}@${pkg.version} needs node ${(pkg.engines as { node: string }).node}`);
  assert.deepEqual(refusing, [], `package.json says node ${ours}`);
});

test('the Node running the tests is one engines accepts', () => {
  const ours = (read('package.json').engines as { node: string }).node;
  assert.ok(semver.satisfies(process.versions.node, ours), `node ${process.versions.node} is outside ${ours}`);
});
