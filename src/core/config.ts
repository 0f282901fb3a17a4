import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml, YAMLError } from 'yaml';
import { z } from 'zod';
import { invalidInput } from './errors.js';
import { bindHostSetting, postgresUrlSetting } from './setting-schemas.js';
import { defineSettings, parseSetting, rawSetting, readSettings, type SettingSources, type SettingsSpec, type SettingValues } from './settings.js';

/**
 * The domain-free settings: where the data lives, where the daemon listens, how
 * much it logs. Each domain declares its own settings in its manifest; the
 * loader below reads core's and theirs from the same sources.
 */
export const CORE_SETTINGS = defineSettings({
  home: {
    env: 'SUPERVISOR_HOME',
    schema: z.string().min(1),
    default: join(homedir(), '.local/share/supervisor'),
    shownDefault: '~/.local/share/supervisor',
    doc: 'Data dir: embedded database, master key file, daemon lock and address.',
    notSettable: 'home (SUPERVISOR_HOME) is where the config file lives, so it cannot be set in it; set the variable instead',
  },
  databaseUrl: { env: 'DATABASE_URL', schema: z.string().url().optional(), whenSet: postgresUrlSetting, default: undefined, doc: 'PostgreSQL connection string; unset means the embedded PGlite database in the data dir.', sensitive: true },
  databaseStatementTimeoutMs: {
    env: 'SUPERVISOR_DATABASE_STATEMENT_TIMEOUT_MS',
    schema: z.coerce.number().int().min(100).max(3_600_000),
    default: 30_000,
    doc: 'PostgreSQL: longest a statement may run (the server cancels it) or wait for an answer (a connection gone silent is dropped and replaced); the request fails as unavailable (503). Migrations are exempt.',
  },
  databasePoolSize: {
    env: 'SUPERVISOR_DATABASE_POOL_SIZE',
    schema: z.coerce.number().int().min(1).max(100),
    default: 10,
    doc: 'PostgreSQL: most pooled connections a daemon opens; it opens three more for notifications and one per lock it holds. Lower it for a role with a CONNECTION LIMIT.',
  },
  host: { env: 'SUPERVISOR_HOST', schema: z.string().min(1), whenSet: bindHostSetting, default: '127.0.0.1', doc: 'Address the daemon binds. Keep 127.0.0.1 unless a proxy with TLS is in front.' },
  port: { env: 'SUPERVISOR_PORT', schema: z.coerce.number().int().min(0).max(65535), default: 3000, doc: 'Daemon HTTP port (REST, MCP, dashboard); 0 picks a free one.' },
  publicUrl: {
    env: 'SUPERVISOR_PUBLIC_URL',
    schema: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//.test(u) && !/[?#]/.test(u), 'must be an http(s) URL without a query or fragment')
      .transform((u) => u.replace(/\/+$/, ''))
      .optional(),
    default: undefined,
    doc: "The daemon's address as projects are given it (CLAUDE.md's MCP endpoint, .mcp.json) when it is not http://host:port: a proxy in front, or several daemons on one database behind one address, whose files would otherwise flip between their ports.",
    live: true,
  },
  allowedHosts: {
    env: 'SUPERVISOR_ALLOWED_HOSTS',
    schema: z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((h) => h.trim().toLowerCase()).filter((h) => h !== '')),
    default: '',
    doc: 'Other names the daemon answers to (e.g. behind a proxy), comma-separated; localhost, 127.0.0.1, ::1 and SUPERVISOR_HOST always work. Requests naming any other Host or Origin are refused (DNS rebinding).',
  },
  callRetentionDays: {
    env: 'SUPERVISOR_CALL_RETENTION_DAYS',
    schema: z.coerce.number().int().min(1).max(3650),
    default: 30,
    doc: 'Days the record of each operation call (who called what, through which interface, outcome, duration; secret fields redacted) is kept: ~200 bytes a call, so ~5 GB at 10 calls a second for 30 days; lower it on a small disk. The audit log is kept apart, in full.',
    live: true,
  },
  logLevel: { env: 'SUPERVISOR_LOG_LEVEL', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'Log level; logs go to stderr as JSON lines with secret values redacted.', live: true },
});

export type CoreConfig = SettingValues<typeof CORE_SETTINGS>;

/** http://host:port, with an IPv6 address in brackets. */
export const httpUrl = (host: string, port: number): string => `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** A table of settings owned by one domain. */
export interface SettingsTable {
  id: string;
  settings?: SettingsSpec;
}

export interface Config extends CoreConfig {
  /** Each domain's settings, by domain id. */
  readonly domains: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** The config file this configuration was read from (or would be, when it does not exist). */
  readonly configFile?: string;
  /** The environment it was read with: a variable set there wins over the file. */
  readonly env?: NodeJS.ProcessEnv;
  /** The config file's settings as they were read, to say where a value in use came from after the file changed. */
  readonly fileAtStart?: Readonly<Record<string, unknown>>;
}

/** The config file: SUPERVISOR_CONFIG, else config.yaml in the data dir. */
export function configFilePath(env: NodeJS.ProcessEnv, home: string): string {
  return env[CONFIG_FILE_ENV] ? resolve(env[CONFIG_FILE_ENV]) : join(home, 'config.yaml');
}

const CONFIG_FILE_ENV = 'SUPERVISOR_CONFIG';

/** Every setting name with its owner; two owners of one name (or one variable) is a programming error. */
function allSettings(tables: readonly SettingsTable[]): Map<string, { owner: string; env: string; notSettable?: string }> {
  const names = new Map<string, { owner: string; env: string; notSettable?: string }>();
  const envs = new Set<string>();
  for (const [owner, spec] of [['core', CORE_SETTINGS] as const, ...tables.map((t) => [t.id, t.settings ?? {}] as const)]) {
    for (const [name, def] of Object.entries(spec)) {
      if (names.has(name)) throw new Error(`setting ${name} is declared by both ${names.get(name)!.owner} and ${owner}`);
      if (envs.has(def.env)) throw new Error(`environment variable ${def.env} is declared twice (${owner}.${name})`);
      names.set(name, { owner, env: def.env, notSettable: def.notSettable });
      envs.add(def.env);
    }
  }
  return names;
}

function readConfigFile(path: string, known: Map<string, unknown>): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    // The yaml library's error names a line but not the file; every command reads this file first.
    if (!(err instanceof YAMLError)) throw err;
    throw invalidInput(`config file ${path} is not valid YAML (${err.message.split('\n')[0]}); fix it by hand, or move it away to start from the defaults`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidInput(`config file ${path} must hold a mapping of setting: value`);
  }
  const unknown = Object.keys(parsed).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw invalidInput(`config file ${path} has unknown settings: ${unknown.join(', ')}; known: ${[...known.keys()].join(', ')}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the configuration of core and the given domains: defaults, then the
 * config file (`SUPERVISOR_CONFIG`, else `config.yaml` in the data dir when
 * present), then environment variables.
 */
export function readConfig(env: NodeJS.ProcessEnv, tables: readonly SettingsTable[]): Config {
  const known = allSettings(tables);
  const home = resolve(parseSetting('home', CORE_SETTINGS.home, rawSetting('home', CORE_SETTINGS.home, { env, file: {} })) as string);
  const explicitFile = env[CONFIG_FILE_ENV];
  const filePath = configFilePath(env, home);
  if (explicitFile && !existsSync(filePath)) throw invalidInput(`${CONFIG_FILE_ENV} names ${filePath}, which does not exist`);
  const sources: SettingSources = { env, file: existsSync(filePath) ? readConfigFile(filePath, known) : {}, fileName: filePath };
  // What set_setting refuses is refused in a file edited by hand too: the data dir was chosen
  // above, before the file could be read (a home in it would be shown as used and never be);
  // a master key belongs to the environment or master.key.
  for (const name of Object.keys(sources.file)) {
    const refusal = known.get(name)?.notSettable;
    if (refusal) throw invalidInput(`config file ${filePath} sets ${name}: ${refusal}`);
  }
  const core = readSettings(CORE_SETTINGS, sources);
  const domains = Object.fromEntries(tables.map((t) => [t.id, readSettings(t.settings ?? {}, sources)]));
  return { ...core, home, domains, configFile: filePath, env, fileAtStart: sources.file };
}
