// `instructions init`: a new install is useful at once, and running it again never replaces
// anything a person changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_BIN } from '../../src/core/cli-path.js';
import { readSharedLayers } from '../../src/instructions/layers.js';
import { renderLayers } from '../../src/instructions/placeholders.js';
import { initInstructionsRoot, STARTER_FILES } from '../../src/instructions/starter.js';
import { factsFor } from './fixture.js';

test('init creates the starter layers; a second run keeps every file, edited or not', async (t) => {
  const root = join(await mkdtemp(join(tmpdir(), 'supervisor-init-')), 'instructions');
  t.after(() => rm(join(root, '..'), { recursive: true, force: true }));

  const first = await initInstructionsRoot(root);
  assert.equal(first.created.length, STARTER_FILES.length);
  assert.deepEqual(first.kept, []);
  const edited = join(root, '.supervisor-core', '10-secrets.md');
  await writeFile(edited, 'Our own secrets policy.\n');

  const second = await initInstructionsRoot(root);
  assert.deepEqual(second.created, []);
  assert.equal(second.kept.length, STARTER_FILES.length);
  assert.equal(await readFile(edited, 'utf8'), 'Our own secrets policy.\n');
});

test("the starter set renders for a project, names this supervisor's tools and stays short", async (t) => {
  const root = join(await mkdtemp(join(tmpdir(), 'supervisor-init-')), 'instructions');
  t.after(() => rm(join(root, '..'), { recursive: true, force: true }));
  await initInstructionsRoot(root);
  const shared = await readSharedLayers(root);
  const files = [...shared.core.files, ...shared.meta.files];
  const text = renderLayers(files, { name: 'consilio', directory: '/srv/consilio' }, factsFor('consilio')).join('\n\n');
  for (const tool of ['get_secret', 'set_secret', 'list_secrets', 'get_port', 'allocate_port', 'list_ports', 'sync_tunnel', 'create_cname']) {
    assert.match(text, new RegExp(`\`${tool}\``), tool);
  }
  assert.match(text, /`project\/consilio\/database_url`/);
  // How to start a service with its port and secrets, by a command that works whatever PATH holds.
  assert.ok(text.includes(`\`node ${CLI_BIN} run --project consilio --service <name> -- <command>\``), text);
  assert.match(text, /Port range: 4000-4099\. Services:\n- web: 4001 \(consilio\.example\.com\)/);
  assert.ok(text.split('\n').length < 80, 'the starter set leaves room for each project under ~200 lines');
  assert.equal(shared.meta.files.length, 1);
});
