// /metrics as Prometheus scrapes it: every call from any interface counted by operation,
// interface and outcome, with latency histograms, in the text format Prometheus's own checker
// (promtool) accepts without a lint warning; a token is needed, and no secret value or made-up
// operation name becomes a series.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { daemonBackend } from '../cli/run-cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const PROMTOOL = '/usr/bin/promtool';
// Under CI a missing promtool fails the check (.ci/run installs it); elsewhere the skip says why.
const noPromtool = existsSync(PROMTOOL) || process.env.CI ? false : `${PROMTOOL} is not installed (apt-get install prometheus; .ci/run does it)`;

let daemon: TestDaemon;
let projectToken: string;
const SECRET_VALUE = 'metrics-must-never-show-this-value';

before(async () => {
  daemon = await startTestDaemon(await daemonBackend());
  projectToken = await daemon.projectToken('scraper');
});
after(async () => {
  await daemon?.close();
});

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const api = (path: string, init: RequestInit = {}) => fetch(`${daemon.url}/api/v1${path}`, { ...init, headers: { ...as(daemon.adminToken), 'content-type': 'application/json', ...init.headers } });

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of the text format (the test's own reading: promtool judges the format). */
function samplesOf(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, name, labels, value] = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)!;
      return { name: name!, labels: Object.fromEntries([...(labels ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!])), value: Number(value) };
    });
}

async function scrape(token: string): Promise<{ text: string; samples: Sample[] }> {
  const response = await fetch(`${daemon.url}/metrics`, { headers: as(token) });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  return { text, samples: samplesOf(text) };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const calls = (samples: Sample[], labels: Record<string, string>) => find(samples, 'supervisor_operation_calls_total', labels)[0]?.value ?? 0;

test('what a scrape answers passes promtool check metrics: the format, and its naming rules', { skip: noPromtool }, async () => {
  // Some calls first, so every family has series, with labels to escape.
  assert.equal((await api('/call/get_identity', { method: 'POST', body: '{}' })).status, 200);
  assert.equal((await api('/secret?path=project%2Fscraper%2Fnone')).status, 404);
  const { text } = await scrape(projectToken);
  const checked = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
  assert.equal(`${checked.stdout}${checked.stderr}`, '');
});

test('a scrape without a token is refused; any token reads the figures', async () => {
  const refusals = (samples: Sample[], reason: string) => find(samples, 'supervisor_auth_refusals_total', { reason })[0]?.value ?? 0;
  const before = (await scrape(projectToken)).samples;
  assert.equal((await fetch(`${daemon.url}/metrics`)).status, 401);
  assert.equal((await fetch(`${daemon.url}/api/v1/whoami`, { headers: as('svt_not_a_token_of_this_daemon') })).status, 401);
  assert.equal((await fetch(`${daemon.url}/api/v1/whoami`, { headers: as('svt_not_a_token_of_this_daemon') })).status, 401);
  const { samples } = await scrape(projectToken);
  // Refused for the token, before any operation: counted apart, by why.
  assert.equal(refusals(samples, 'missing') - refusals(before, 'missing'), 1);
  assert.equal(refusals(samples, 'refused') - refusals(before, 'refused'), 2);
  assert.equal(find(samples, 'supervisor_build_info')[0]?.value, 1);
  assert.ok(find(samples, 'process_resident_memory_bytes')[0]!.value > 10_000_000);
  // The name dashboards made for Prometheus's client libraries chart.
  assert.ok(find(samples, 'process_cpu_seconds_total')[0]!.value > 0);
  assert.ok(find(samples, 'process_start_time_seconds')[0]!.value > 1_700_000_000);
});

test('calls are counted by operation, interface and outcome, with a histogram of their times', async () => {
  const before = (await scrape(projectToken)).samples;
  assert.equal((await api('/secret', { method: 'PUT', body: JSON.stringify({ path: 'project/scraper/key', value: SECRET_VALUE }) })).status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await api('/secret?path=project%2Fscraper%2Fkey')).status, 200);
  assert.equal((await api('/secret?path=project%2Fscraper%2Fnone')).status, 404);
  // A name no operation has is counted under one series, not its own.
  assert.equal((await api('/call/made_up_operation_1', { method: 'POST', body: '{}' })).status, 404);
  assert.equal((await api('/call/made_up_operation_2', { method: 'POST', body: '{}' })).status, 404);

  const { text, samples } = await scrape(projectToken);
  const grew = (labels: Record<string, string>) => calls(samples, labels) - calls(before, labels);
  assert.equal(grew({ operation: 'set_secret', interface: 'rest', outcome: 'ok' }), 1);
  assert.equal(grew({ operation: 'get_secret', interface: 'rest', outcome: 'ok' }), 3);
  assert.equal(grew({ operation: 'get_secret', interface: 'rest', outcome: 'not_found' }), 1);
  assert.equal(grew({ operation: '(unknown)', interface: 'rest', outcome: 'not_found' }), 2);
  assert.doesNotMatch(text, /made_up_operation/);
  assert.equal(text.includes(SECRET_VALUE), false);

  const reads = { operation: 'get_secret', interface: 'rest' };
  const count = find(samples, 'supervisor_operation_duration_seconds_count', reads)[0]!.value;
  assert.equal(count - (find(before, 'supervisor_operation_duration_seconds_count', reads)[0]?.value ?? 0), 4);
  // Buckets are cumulative, in order of their bounds, and end at the count.
  const buckets = find(samples, 'supervisor_operation_duration_seconds_bucket', reads);
  assert.equal(buckets.at(-1)!.labels.le, '+Inf');
  assert.equal(buckets.at(-1)!.value, count);
  assert.deepEqual(buckets.map((b) => b.value), buckets.map((b) => b.value).sort((a, b) => a - b));
  assert.deepEqual(buckets.slice(0, -1).map((b) => Number(b.labels.le)), buckets.slice(0, -1).map((b) => Number(b.labels.le)).sort((a, b) => a - b));
  const sum = find(samples, 'supervisor_operation_duration_seconds_sum', reads)[0]!.value;
  assert.ok(sum > 0 && sum < 60);
});

/** One tools/call over MCP as the scraper's project. */
const mcpCall = (name: string, args: Record<string, unknown>, headers: Record<string, string> = {}) =>
  fetch(`${daemon.url}/mcp/scraper`, {
    method: 'POST',
    headers: { ...as(projectToken), 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });

test('calls over MCP are counted under their own interface, and so are those MCP refuses before any call', async () => {
  const before = (await scrape(projectToken)).samples;
  const response = await mcpCall('get_secret', { path: 'project/scraper/key' });
  assert.equal(response.status, 200);
  assert.match(await response.text(), /metrics-must-never-show-this-value/);
  // A tool that does not exist, and one this session's toolsets leave out.
  assert.match(await (await mcpCall('made_up_tool', {})).text(), /unknown tool/);
  assert.match(await (await mcpCall('start_task', { type: 'x', project: 'scraper' }, { 'x-supervisor-toolsets': 'secrets' })).text(), /not served here/);
  const { text, samples } = await scrape(projectToken);
  const grew = (labels: Record<string, string>) => calls(samples, labels) - calls(before, labels);
  assert.equal(grew({ operation: 'get_secret', interface: 'mcp', outcome: 'ok' }), 1);
  assert.equal(grew({ operation: '(unknown)', interface: 'mcp', outcome: 'not_found' }), 1);
  assert.equal(grew({ operation: 'start_task', interface: 'mcp', outcome: 'forbidden' }), 1);
  assert.doesNotMatch(text, /made_up_tool/);
  assert.equal(text.includes(SECRET_VALUE), false);
});
