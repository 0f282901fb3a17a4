// A project's .mcp.json (Claude Code's project-scoped MCP servers, usually committed): one entry
// pointing at the project's supervisor endpoint. The token is never written: the header holds
// `${SUPERVISOR_TOKEN}`, which Claude Code expands from the environment when it connects (an
// unset variable is sent as the literal text, so the server answers 401). Only that entry's text
// is changed: the rest of the file stays as written, byte for byte (other servers' numbers beyond
// a double's precision, key order, layout), where a parse and rewrite would change it.
import { readFile } from 'node:fs/promises';
import { applyEdits, findNodeAtLocation, modify, parseTree } from 'jsonc-parser';
import { isDeepStrictEqual } from 'node:util';
import { invalidInput } from '../core/errors.js';
import { writeFileLike } from '../core/files.js';
import { describingFsErrors } from '../core/fs-errors.js';
import { readInside, resolveInside } from '../core/inside.js';
import { CHECKOUT_FILE_MODE } from './modes.js';
import { jsonSyntaxReason } from '../core/json-syntax.js';

export const TOKEN_ENV = 'SUPERVISOR_TOKEN';
export const MCP_CONFIG_FILE = '.mcp.json';

export interface McpConfigInput {
  /** The project's directory; .mcp.json goes at its top. */
  directory: string;
  /** The server's key under mcpServers; Claude Code names its tools mcp__<name>__<tool>. */
  serverName: string;
  /** The project's MCP endpoint, e.g. http://127.0.0.1:3000/mcp/consilio. */
  url: string;
}

export async function writeMcpConfig(input: McpConfigInput): Promise<{ path: string; status: 'created' | 'updated' | 'unchanged' }> {
  const target = await resolveInside(input.directory, MCP_CONFIG_FILE, 'project directory');
  const before = target.stats ? await describingFsErrors('read', target.shown, () => readFile(target.path, 'utf8')) : undefined;
  const config = before === undefined ? {} : parseConfig(before, target.shown);
  const servers = config.mcpServers ?? {};
  if (!isRecord(servers)) throw invalidInput(`${target.shown}: mcpServers must be an object of server name → settings; fix the file by hand`, { path: target.shown });
  const entry = { type: 'http', url: input.url, headers: { Authorization: `Bearer \${${TOKEN_ENV}}` } };
  if (isDeepStrictEqual(servers[input.serverName], entry)) return { path: target.shown, status: 'unchanged' };
  // Replaced whole: an older stdio entry's command must not survive next to a url.
  const next = before === undefined || before.trim() === '' ? `${JSON.stringify({ mcpServers: { [input.serverName]: entry } }, null, 2)}\n` : withEntry(before, input.serverName, entry, target.shown);
  await describingFsErrors('write', target.shown, () => writeFileLike(target.path, next, target.stats, CHECKOUT_FILE_MODE));
  return { path: target.shown, status: before === undefined ? 'created' : 'updated' };
}

/**
 * How the project's .mcp.json stands against its endpoint: `stale` when the supervisor's entry
 * leads elsewhere (the daemon moved to another port, say), which write_mcp_config mends; `broken`
 * when it is not JSON Claude Code can read, so no server in it loads, ours included (only a person
 * can mend that). Undefined when it is fine, absent, or has no entry of ours: that is the owner's business.
 */
export async function mcpConfigDrift(input: McpConfigInput): Promise<{ stale: string } | { broken: string } | undefined> {
  // A file linked from outside the project is not read (and so not reported on) either.
  const text = await readInside(input.directory, MCP_CONFIG_FILE, 'project directory').catch(() => undefined);
  if (text === undefined || text.trim() === '') return undefined;
  let servers: unknown;
  try {
    servers = (JSON.parse(text) as { mcpServers?: unknown }).mcpServers;
  } catch (err) {
    return { broken: `${MCP_CONFIG_FILE} is not valid JSON (${jsonSyntaxReason(err)}): Claude Code loads none of its MCP servers, ${input.serverName} included; fix it by hand` };
  }
  const entry = isRecord(servers) ? servers[input.serverName] : undefined;
  if (!isRecord(entry) || entry.url === input.url) return undefined;
  return { stale: `its ${input.serverName} server points at ${typeof entry.url === 'string' ? entry.url : 'no url'}, and the endpoint is ${input.url}; write_mcp_config updates it` };
}

/** Refuses what it cannot read faithfully: rewriting a file we misparsed would lose its servers. */
function parseConfig(text: string, shown: string): Record<string, unknown> & { mcpServers?: unknown } {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch (err) {
    throw invalidInput(`${shown} is not valid JSON (${jsonSyntaxReason(err)}); fix it by hand, nothing was written`, { path: shown });
  }
  if (!isRecord(parsed)) throw invalidInput(`${shown} must hold a JSON object; fix it by hand, nothing was written`, { path: shown });
  return parsed;
}

/**
 * `text` with mcpServers.<name> set to `entry`, laid out as the file is (its indentation, line
 * ends, one line when it is on one line) and every other byte as written: an existing entry's
 * value is replaced where it stands, a new one goes after the last server (or makes mcpServers).
 */
function withEntry(text: string, name: string, entry: unknown, shown: string): string {
  refuseTwice(text, name, shown);
  // One edit, unformatted: jsonc-parser's formatting lays out the lines around it again.
  const [edit] = modify(text, ['mcpServers', name], entry, {});
  if (!edit || !text.trimEnd().includes('\n')) return applyEdits(text, edit ? [edit] : []);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const unit = /^([ \t]+)\S/m.exec(text)?.[1] ?? '  ';
  const lineIndent = (offset: number) => /^[ \t]*/.exec(text.slice(text.lastIndexOf('\n', offset - 1) + 1))![0];
  const pretty = (value: unknown, indent: string) => JSON.stringify(value, null, unit).split('\n').join(`${eol}${indent}`);
  const tree = parseTree(text)!;
  const existing = findNodeAtLocation(tree, ['mcpServers', name]);
  if (existing) return applyEdits(text, [{ ...edit, content: pretty(entry, lineIndent(existing.parent!.offset)) }]);
  const servers = findNodeAtLocation(tree, ['mcpServers']);
  const parent = servers ?? tree;
  const [key, value] = servers ? [name, entry] : ['mcpServers', { [name]: entry }];
  const siblings = parent.children ?? [];
  const indent = siblings.length > 0 ? lineIndent(siblings.at(-1)!.offset) : `${lineIndent(parent.offset)}${unit}`;
  const property = `${JSON.stringify(key)}: ${pretty(value, indent)}`;
  const content = siblings.length > 0 ? `,${eol}${indent}${property}` : `${eol}${indent}${property}${eol}${lineIndent(parent.offset)}`;
  return applyEdits(text, [{ ...edit, content }]);
}

/**
 * A server named twice in mcpServers: JSON.parse (and so Claude Code) keeps the last, and an edit
 * of one would leave the other to win or lose by its place. Only a person knows which is meant.
 */
function refuseTwice(text: string, serverName: string, shown: string): void {
  const servers = findNodeAtLocation(parseTree(text)!, ['mcpServers']);
  const named = (servers?.children ?? []).filter((property) => property.children?.[0]?.value === serverName).length;
  if (named > 1) throw invalidInput(`${shown} names the ${serverName} server ${named} times under mcpServers; keep one by hand, nothing was written`, { path: shown });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
