// cloudflared's config.yml for locally-managed tunnels: read the ingress list, and replace it
// while keeping everything else in the file (other keys, comments, quoting) as the person wrote
// it. cloudflared has no hot reload for local configs, so a change is followed by a restart
// command; if that fails, the previous file is put back byte for byte.
import { spawn } from 'node:child_process';
import type { Stats } from 'node:fs';
import { mkdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Document, LineCounter, isMap, isScalar, isSeq, parseDocument, type Node, type ParsedNode } from 'yaml';
import { SupervisorError, invalidInput } from '../core/errors.js';
import { writeFileLike } from '../core/files.js';
import type { IngressRule } from './client.js';
import { routeKey } from './ingress-merge.js';
import { ingressProblems, sameIngress } from './ingress-rules.js';
import { notConfigured } from './configured.js';

export interface LocalConfig {
  exists: boolean;
  /** The `tunnel` key (UUID or name), when present. */
  tunnel?: string;
  ingress: IngressRule[];
}

export interface WriteLocalIngressOptions {
  path: string;
  /** Run through `/bin/sh -c` after writing; empty means "do not restart". */
  restartCommand: string;
  /** Default 60,000 ms. */
  restartTimeoutMs?: number;
  /** Validate and compare only; touch nothing. */
  dryRun?: boolean;
}

export interface WriteLocalIngressResult {
  changed: boolean;
  written: boolean;
  restarted: boolean;
  /** `<path>.bak`, when a previous file existed and was copied there. */
  backupPath?: string;
  previous: IngressRule[];
}

const DEFAULT_RESTART_TIMEOUT_MS = 60_000;
/** cloudflared may run as another user than the supervisor: a new file must be world-readable. */
const NEW_FILE_MODE = 0o644;
const STDERR_TAIL = 2_000;
const RULE_KEYS = new Set(['hostname', 'path', 'service', 'originRequest']);

/** What is on disk now: the raw bytes (for a byte-identical restore) and the parsed document. */
interface Loaded {
  exists: boolean;
  bytes?: Buffer;
  stats?: Stats;
  doc: Document.Parsed;
  ingress: IngressRule[];
}

// ---------------------------------------------------------------------------------------------
// Reading

/** Reads config.yml; a missing file is `{ exists: false, ingress: [] }`, not an error. */
export async function readLocalConfig(path: string): Promise<LocalConfig> {
  const loaded = await load(path);
  const tunnel = loaded.doc.get('tunnel');
  const result: LocalConfig = { exists: loaded.exists, ingress: loaded.ingress };
  if (typeof tunnel === 'string' || typeof tunnel === 'number') result.tunnel = String(tunnel);
  return result;
}

async function load(path: string): Promise<Loaded> {
  const bytes = await readIfExists(path);
  const lines = new LineCounter();
  const doc = parseDocument(bytes?.toString('utf8') ?? '', { lineCounter: lines, prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lines.linePos(error.pos[0]);
    throw invalidInput(`${path} is not valid YAML (line ${line}, column ${col}): ${error.message}`, { path, line });
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw invalidInput(`${path} must be a YAML mapping of settings (tunnel, ingress, …) at the top level`, { path });
  }
  const ingress = parseIngress(doc, path, lines);
  if (!bytes) return { exists: false, doc, ingress };
  return { exists: true, bytes, stats: await stat(path), doc, ingress };
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // The setting names a folder (a path cut short, or config.yml made a folder by a bind mount).
    if (code === 'EISDIR') {
      throw notConfigured([{ what: 'config_file', fix: `${path} is a folder, not a file; \`supervisor config set cloudflaredConfig <cloudflared's config.yml>\`, e.g. /etc/cloudflared/config.yml`, restart: false }]);
    }
    throw err;
  }
}

function lineOf(node: Node | null | undefined, lines: LineCounter): number | undefined {
  return node?.range ? lines.linePos(node.range[0]).line : undefined;
}

function located(path: string, line: number | undefined): string {
  return line === undefined ? path : `${path} line ${line}`;
}

/**
 * Strict on purpose: the caller merges these rules with its own and writes the result back, so
 * a rule we misread (a typo'd key, a list where a mapping belongs) would be lost on the next
 * write. Refusing makes the person fix the file instead.
 */
function parseIngress(doc: Document.Parsed, path: string, lines: LineCounter): IngressRule[] {
  const node = doc.get('ingress', true) as ParsedNode | undefined;
  if (node === undefined || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) throw invalidInput(`${located(path, lineOf(node, lines))}: ingress must be a list of rules`, { path });
  return node.items.map((item, i) => {
    const where = located(path, lineOf(item as Node, lines));
    if (!isMap(item)) throw invalidInput(`${where}: ingress rule ${i + 1} must be a mapping (hostname, path, service, originRequest)`, { path });
    return toRule(item.toJS(doc) as unknown, `${where}: ingress rule ${i + 1}`, path);
  });
}

function toRule(value: unknown, where: string, path: string): IngressRule {
  const raw = value as Record<string, unknown>;
  const unknownKey = Object.keys(raw).find((k) => !RULE_KEYS.has(k));
  if (unknownKey !== undefined) {
    throw invalidInput(`${where} has an unknown key "${unknownKey}"; a rule has hostname, path, service and originRequest`, { path });
  }
  const { hostname, path: rulePath, service, originRequest } = raw;
  if (typeof service !== 'string') throw invalidInput(`${where} needs a service (e.g. http://localhost:8080)`, { path });
  if (hostname !== undefined && hostname !== null && typeof hostname !== 'string') throw invalidInput(`${where}: hostname must be text`, { path });
  if (rulePath !== undefined && rulePath !== null && typeof rulePath !== 'string') throw invalidInput(`${where}: path must be text`, { path });
  if (originRequest !== undefined && originRequest !== null && !isRecord(originRequest)) {
    throw invalidInput(`${where}: originRequest must be a mapping`, { path });
  }
  return {
    ...(typeof hostname === 'string' ? { hostname } : {}),
    ...(typeof rulePath === 'string' ? { path: rulePath } : {}),
    service,
    ...(isRecord(originRequest) ? { originRequest } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Writing

/**
 * Replaces the `ingress` list of config.yml and restarts cloudflared. Order: validate the new
 * list (invalid → invalid_input, nothing touched), compare with the file (same → no write, no
 * restart), then backup, write, restart, and on a failed restart restore and throw unavailable.
 * Not safe to call concurrently for one path: callers serialise writes.
 */
export async function writeLocalIngress(opts: WriteLocalIngressOptions, ingress: IngressRule[]): Promise<WriteLocalIngressResult> {
  const problems = ingressProblems(ingress);
  if (problems.length > 0) {
    throw invalidInput(`the ingress for ${opts.path} is not valid: ${problems.join('; ')}`, { path: opts.path, problems });
  }
  const current = await load(opts.path);
  const previous = current.ingress;
  const unchanged = { changed: false, written: false, restarted: false, previous };
  if (sameIngress(previous, ingress)) return unchanged;
  if (opts.dryRun) return { ...unchanged, changed: true };

  const text = render(current.doc, ingress);
  // A config.yml that is a symlink (e.g. into a dotfiles repo) stays one: write its target.
  const target = current.exists ? await realpath(opts.path) : opts.path;
  const backupPath = await backupAndWrite(target, `${opts.path}.bak`, current, text);
  const restarted = await restartOrRestore({ ...opts, path: target }, current, backupPath);
  const result: WriteLocalIngressResult = { changed: true, written: true, restarted, previous };
  if (backupPath) result.backupPath = backupPath;
  return result;
}

/**
 * The same document with only `ingress` replaced. Comments around the key survive, and a
 * comment above a rule stays above that rule (by hostname and path) wherever it moves; the
 * comment of a rule that is gone stays at the top of the list rather than being dropped. The
 * YAML library keeps a comment above the first rule on the list itself, so it is taken as that
 * rule's.
 */
function render(doc: Document.Parsed, ingress: IngressRule[]): string {
  const out = doc.clone();
  const old = out.get('ingress', true) as Node | undefined;
  const fresh = out.createNode(ingress.map(plainRule));
  if (old) {
    const byRule = new Map<string, { before?: string; after?: string }>();
    const oldItems = isSeq(old) ? old.items : [];
    oldItems.forEach((item, i) => {
      if (!isMap(item)) return;
      const before = (i === 0 ? old.commentBefore : item.commentBefore) ?? undefined;
      const after = item.comment ?? undefined;
      if (before !== undefined || after !== undefined) byRule.set(keyOf(item.toJS(out) as IngressRule), { before, after });
    });
    const unplaced = new Set(byRule.keys());
    for (const item of fresh.items) {
      if (!isMap(item)) continue;
      const key = keyOf(item.toJS(out) as IngressRule);
      const kept = byRule.get(key);
      if (!kept) continue;
      item.commentBefore = kept.before;
      item.comment = kept.after;
      unplaced.delete(key);
    }
    // A gone rule's comment is not lost: it stays at the top of the list.
    const orphaned = [...unplaced].map((k) => byRule.get(k)?.before).filter((c): c is string => c !== undefined);
    fresh.commentBefore = oldItems.length === 0 ? old.commentBefore : orphaned.join('\n') || undefined;
    fresh.comment = old.comment;
  }
  // On an empty (or comments-only) document, set() creates the top-level mapping.
  out.set('ingress', fresh);
  // lineWidth 0: never fold the person's long values onto several lines.
  return out.toString({ lineWidth: 0 });
}

const keyOf = (rule: IngressRule): string => routeKey(rule.hostname, rule.path);

/** Fixed key order and no undefined fields, so the file reads the same way every time. */
function plainRule(rule: IngressRule): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rule.hostname !== undefined) out.hostname = rule.hostname;
  if (rule.path !== undefined) out.path = rule.path;
  out.service = rule.service;
  if (rule.originRequest !== undefined) out.originRequest = rule.originRequest;
  return out;
}

async function backupAndWrite(path: string, backupPath: string, current: Loaded, text: string): Promise<string | undefined> {
  if (!current.exists || !current.bytes) {
    // Only a brand-new file may need its folder; an existing file's folder is left alone.
    await mkdir(dirname(path), { recursive: true });
    await writeLike(path, text, undefined);
    return undefined;
  }
  await writeLike(backupPath, current.bytes, current.stats);
  await writeLike(path, text, current.stats);
  return backupPath;
}

const writeLike = (path: string, data: string | Buffer, like: Stats | undefined) => writeFileLike(path, data, like, NEW_FILE_MODE);

// ---------------------------------------------------------------------------------------------
// Restart

interface CommandOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stderr: string;
  /** Set when the shell itself could not be started. */
  spawnError?: string;
}

async function restartOrRestore(opts: WriteLocalIngressOptions, current: Loaded, backupPath: string | undefined): Promise<boolean> {
  // `true` is how a setting says "no restart" where it cannot be empty (README): nothing restarts, so none is reported.
  if (['', 'true', ':'].includes(opts.restartCommand.trim())) return false;
  const timeoutMs = opts.restartTimeoutMs ?? DEFAULT_RESTART_TIMEOUT_MS;
  const outcome = await runShell(opts.restartCommand, timeoutMs);
  if (outcome.code === 0 && !outcome.signal && !outcome.timedOut && outcome.spawnError === undefined) return true;
  const failure = describeFailure(opts, timeoutMs, outcome);
  try {
    await restore(opts.path, current);
  } catch (err) {
    // The restart failure is the news; a failed restore must not hide it, and the person
    // needs to know the new file is still in place and where the old one is.
    const where = backupPath ? `; the previous content is in ${backupPath}` : '';
    throw new SupervisorError('unavailable', `${failure.message}; restoring ${opts.path} also failed (${(err as Error).message})${where}`, {
      ...failure.details,
      restored: false,
      backupPath,
    });
  }
  const undo = current.exists ? `${opts.path} was restored to its previous content` : `the new ${opts.path} was removed`;
  throw new SupervisorError('unavailable', `${failure.message}; ${undo}`, { ...failure.details, restored: true, backupPath });
}

async function restore(path: string, current: Loaded): Promise<void> {
  if (current.exists && current.bytes) await writeLike(path, current.bytes, current.stats);
  else await rm(path, { force: true });
}

function howItFailed(outcome: CommandOutcome, timeoutMs: number): string {
  if (outcome.spawnError !== undefined) return `could not be started (${outcome.spawnError})`;
  if (outcome.timedOut) return `did not finish within ${timeoutMs} ms and was stopped`;
  if (outcome.signal) return `was killed by ${outcome.signal}`;
  return `exited with code ${outcome.code}`;
}

function describeFailure(opts: WriteLocalIngressOptions, timeoutMs: number, outcome: CommandOutcome) {
  const stderr = outcome.stderr.trim();
  const message =
    `restart command "${opts.restartCommand}" ${howItFailed(outcome, timeoutMs)}` + (stderr ? ` (stderr: ${stderr})` : ' (no stderr)');
  const details = {
    path: opts.path,
    command: opts.restartCommand,
    exitCode: outcome.code,
    signal: outcome.signal,
    timedOut: outcome.timedOut,
    stderr,
  };
  return { message, details };
}

/**
 * Runs `command` with /bin/sh in its own process group so a timeout can stop the whole tree
 * (killing only the shell would leave e.g. `sleep` holding the stderr pipe open). Resolves
 * shortly after the shell exits even if a backgrounded child keeps stderr open.
 */
function runShell(command: string, timeoutMs: number): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const settle = (outcome: CommandOutcome) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      child.stderr.destroy();
      resolve(outcome);
    };
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // The group is already gone.
      }
    };
    const finish = () =>
      settle({ code: exited?.code ?? null, signal: exited?.signal ?? null, timedOut, stderr: stderr.slice(-STDERR_TAIL) });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2 * STDERR_TAIL);
    });
    // A failed spawn is a failed restart: the caller restores the file as for any other failure.
    child.once('error', (err) => settle({ code: null, signal: null, timedOut, stderr, spawnError: err.message }));
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      timers.push(setTimeout(finish, 500));
    });
    child.once('close', finish);
    timers.push(
      setTimeout(() => {
        if (exited) return;
        timedOut = true;
        killGroup('SIGTERM');
        timers.push(setTimeout(() => killGroup('SIGKILL'), 2_000));
      }, timeoutMs),
    );
  });
}
