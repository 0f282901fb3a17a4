// `npm run bench`: prints figures, asserts nothing. Needs `npm run build` (npm install does it)
// and PostgreSQL on 127.0.0.1:5432 (database test) for the PostgreSQL figures.
import { existsSync } from 'node:fs';
import { startChildDaemon, CLI } from './daemon-child.js';
import { benchMcpStdio } from './mcp-stdio.js';
import { benchCli } from './cli.js';
import { benchRest } from './rest.js';
import { onEachBackend } from './backends.js';
import { benchInProcessGet } from './secrets-inprocess.js';
import { benchPorts } from './ports.js';
import { benchCloudflare } from './cloudflare.js';
import { benchInstructions } from './instructions.js';
import { benchDaemonRss } from './daemon-rss.js';
import { benchInvalidation } from './invalidation.js';
import { benchGcloud } from './gcloud.js';
import { benchStorageCopy } from './storage-copy.js';

const only = process.argv[2];

if (!only || only === 'secrets') {
  console.log('== Secrets: in-process get_secret vs bare SELECT ==');
  await onEachBackend(benchInProcessGet);
}
if (!only || only === 'ports') {
  console.log('\n== Ports: allocate_port vs bare INSERT, audit_ports ==');
  await benchPorts();
}
if (!only || only === 'cloudflare') {
  console.log('\n== Cloudflare: plan + apply, 500 routes and 1,000 records, 5% changed ==');
  await benchCloudflare();
}
if (!only || only === 'instructions') {
  console.log('\n== Instructions: regenerate, check and diff for 60 projects ==');
  await benchInstructions();
}
if (!only || only === 'invalidation') {
  console.log('\n== Several daemons: invalidation latency ==');
  await onEachBackend(() => benchInvalidation(), ['postgres']);
}
if (!only || only === 'copy') {
  console.log('\n== storage copy: an audit log of 25k and 100k rows between the two engines ==');
  await onEachBackend(() => benchStorageCopy(), ['postgres']);
}
if (!only || only === 'rss') {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  console.log('\n== Embedded database: daemon memory ==');
  await benchDaemonRss();
}
if (!only || only === 'gcloud') {
  console.log('\n== GCloud: health of 50 VMs in 2 accounts in one call (fake Google over HTTP); daemon start ==');
  await benchGcloud();
}
if (!only || only === 'rest' || only === 'mcp' || only === 'cli') {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build`);
  const daemon = await startChildDaemon();
  try {
    if (!only || only === 'rest') await benchRest(daemon);
    if (!only || only === 'mcp') await benchMcpStdio(daemon);
    if (!only || only === 'cli') await benchCli(daemon);
  } finally {
    await daemon.close();
  }
}
