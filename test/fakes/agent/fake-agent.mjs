#!/usr/bin/env node
// A scripted stand-in for `claude -p --output-format stream-json --verbose`: reads the prompt on
// stdin, makes real edits in its cwd and prints lines shaped like Claude Code's (system/init,
// assistant text and tool_use, user tool_result, result). Plain Node, no dependencies.
//
// FAKE_AGENT_SCRIPT names a JSON file:
//   { "log": "/abs/calls.jsonl",            every call appends {argv, cwd, prompt} here
//     "rules": [ { "match": "PLAN", ...step }, { "match": "IMPLEMENT", "attempts": [step, step] } ] }
// The first rule whose `match` occurs in the prompt is used (no `match`: any prompt). A rule with
// `attempts` uses its n-th step on its n-th use (the last one from then on); the counts are kept in
// <script>.state.json so they survive from one run to the next.
//
// A step:
//   text            assistant text (default "Working on it.")
//   result          result text (default: text)
//   writes          { "relative/path": "content" | null }  null deletes the file; written before a hang (half-done work)
//   commit          true: `git commit -am` its own changes (which the loop must undo);
//                   "all": `git add -A` first, so new and supervisor-written files go in too
//   silent          true: print nothing and hang
//   mute            true: print nothing and exit 0 (a command that is not Claude Code, such as /bin/true)
//   hang            true: print the first lines, then hang without a result
//   omitResult      true: exit without a result line
//   isError         true: the result line says is_error: true
//   subtype         the result subtype (default "success")
//   exitCode        exit with this code (default 0)
//   grandchild      "/abs/pid-file": start `sleep 600` in the group and write its pid there
//   ignoreSigterm   true: survive SIGTERM (only SIGKILL stops it)
//   turns, costUsd  for the result line (default 3, 0.0123)
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const MODEL = 'claude-sonnet-4-5-20250929';

const prompt = readFileSync(0, 'utf8');
const scriptPath = process.env.FAKE_AGENT_SCRIPT;
const script = scriptPath ? JSON.parse(readFileSync(scriptPath, 'utf8')) : { rules: [] };
if (script.log) appendFileSync(script.log, JSON.stringify({ argv: process.argv.slice(2), cwd: process.cwd(), prompt }) + '\n');

const step = pickStep();
const sessionId = randomUUID();
const started = Date.now();
const emit = (line) => process.stdout.write(JSON.stringify({ ...line, session_id: sessionId, uuid: randomUUID() }) + '\n');

if (step.ignoreSigterm) process.on('SIGTERM', () => {});
if (step.grandchild) {
  const child = spawn('sleep', ['600'], { stdio: 'ignore' });
  // Not waited for: it outlives this process unless its whole group is stopped.
  child.unref();
  writeFileSync(step.grandchild, String(child.pid));
}
if (step.silent) await hang();
if (step.mute) process.exit(0);

emit({
  type: 'system',
  subtype: 'init',
  cwd: process.cwd(),
  tools: ['Bash', 'Edit', 'Glob', 'Grep', 'Read', 'Write'],
  mcp_servers: [],
  model: MODEL,
  permissionMode: argValue('--permission-mode') ?? 'default',
  slash_commands: [],
  apiKeySource: 'none',
  claude_code_version: '0.0.0-fake',
  output_style: 'default',
  agents: [],
  skills: [],
  plugins: [],
});
const text = step.text ?? 'Working on it.';
emit(assistant([{ type: 'text', text }]));
for (const [path, content] of Object.entries(step.writes ?? {})) writeFile(path, content);
if (step.hang) await hang();

if (step.commit === 'all') execFileSync('git', ['add', '-A'], { stdio: 'ignore' });
if (step.commit) execFileSync('git', ['commit', '-qam', 'agent commit'], { stdio: 'ignore' });
if (step.omitResult) process.exit(step.exitCode ?? 0);

const isError = step.isError === true;
const subtype = step.subtype ?? 'success';
emit({
  type: 'result',
  subtype,
  is_error: isError,
  duration_ms: Date.now() - started,
  duration_api_ms: Date.now() - started,
  num_turns: step.turns ?? 3,
  ...(subtype === 'success' ? { result: step.result ?? text } : { errors: [step.result ?? text] }),
  total_cost_usd: step.costUsd ?? 0.0123,
  usage: { input_tokens: 120, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 80 },
  modelUsage: {},
  permission_denials: [],
});
process.exitCode = step.exitCode ?? 0;

function pickStep() {
  const rules = script.rules ?? [];
  const index = rules.findIndex((r) => r.match === undefined || prompt.includes(r.match));
  if (index < 0) return {};
  const rule = rules[index];
  if (!rule.attempts) return rule;
  const statePath = `${scriptPath}.state.json`;
  const counts = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
  const n = counts[index] ?? 0;
  counts[index] = n + 1;
  writeFileSync(statePath, JSON.stringify(counts));
  return rule.attempts[Math.min(n, rule.attempts.length - 1)];
}

/** A Write tool call and its result, as Claude Code prints them, then the edit itself. */
function writeFile(path, content) {
  const full = resolve(process.cwd(), path);
  const id = `toolu_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
  emit(assistant([{ type: 'tool_use', id, name: 'Write', input: { file_path: full, content: content ?? '' } }]));
  if (content === null) rmSync(full, { force: true });
  else {
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
  emit({
    type: 'user',
    message: { role: 'user', content: [{ tool_use_id: id, type: 'tool_result', content: `File created successfully at: ${full}` }] },
    parent_tool_use_id: null,
  });
}

function assistant(content) {
  return {
    type: 'assistant',
    message: {
      id: `msg_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 40, output_tokens: 20 },
    },
    parent_tool_use_id: null,
  };
}

function argValue(flag) {
  const i = process.argv.indexOf(flag);
  return i < 0 ? undefined : process.argv[i + 1];
}

function hang() {
  setInterval(() => {}, 60_000);
  // Never returns: the caller's timeout or cancel is what ends this process.
  return new Promise(() => {});
}
