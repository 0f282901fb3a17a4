import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { invalidInput } from './errors.js';

/**
 * Every setting in one table: its environment variable, config-file key, default
 * and meaning. Loading, validation, `supervisor config` and the README table all
 * read this list, so a setting cannot exist in one place and not the others.
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
/** Well-known ports of infrastructure that may run on the host; a service reserving one would break it. */
export const DEFAULT_PORT_DENY_LIST = [22, 25, 53, 80, 443, 2375, 2376, 2379, 2380, 3306, 5432, 5672, 6379, 8500, 9042, 9092, 9200, 9300, 11211, 15672, 27017];

const portList = z
  .union([z.string(), z.array(z.number())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',').filter((p) => p.trim() !== '').map(Number)))
  .pipe(z.array(z.number().int().min(1).max(65535)));

/** Comma-separated names (or a YAML list) → lower-case names without a trailing dot. */
const nameList = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((n) => n.trim().toLowerCase().replace(/\.$/, '')).filter((n) => n !== ''));

export const SETTINGS = {
  home: { env: 'SUPERVISOR_HOME', schema: z.string().min(1), default: join(homedir(), '.local/share/supervisor'), doc: 'Data dir: embedded database, master key file, daemon lock and address.' },
  databaseUrl: { env: 'DATABASE_URL', schema: z.string().url().optional(), default: undefined, doc: 'PostgreSQL connection string; unset means the embedded PGlite database in the data dir.' },
  host: { env: 'SUPERVISOR_HOST', schema: z.string().min(1), default: '127.0.0.1', doc: 'Address the daemon binds. Keep 127.0.0.1 unless a proxy with TLS is in front.' },
  port: { env: 'SUPERVISOR_PORT', schema: port, default: 3000, doc: 'Daemon HTTP port (REST, MCP, dashboard); 0 picks a free one.' },
  masterKey: { env: 'SUPERVISOR_MASTER_KEY', schema: z.string().optional(), default: undefined, doc: 'Master key (64 hex digits or base64 of 32 bytes); unset means the 0600 key file `master.key` in the data dir, created on first start.' },
  logLevel: { env: 'SUPERVISOR_LOG_LEVEL', schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), default: 'info', doc: 'Log level; logs go to stderr as JSON lines with secret values redacted.' },
  secretMaxBytes: { env: 'SUPERVISOR_SECRET_MAX_BYTES', schema: positiveInt.max(1024 * 1024), default: 64 * 1024, doc: 'Largest secret value accepted, in bytes.' },
  keyRotateAfter: { env: 'SUPERVISOR_KEY_ROTATE_AFTER', schema: positiveInt.max(2 ** 32 - 1), default: 1_000_000_000, doc: 'Encryptions under one data key before a new one is started automatically (GCM with random IVs must stay well below 2^32).' },
  portBlockStart: { env: 'SUPERVISOR_PORT_BLOCK_START', schema: port.min(1), default: 3000, doc: 'First port of the default project blocks (meta gets the first block).' },
  portBlockSize: { env: 'SUPERVISOR_PORT_BLOCK_SIZE', schema: positiveInt.max(10_000), default: 100, doc: 'Ports per default project block.' },
  portDenyList: { env: 'SUPERVISOR_PORT_DENY_LIST', schema: portList, default: DEFAULT_PORT_DENY_LIST.join(','), doc: 'Comma-separated ports never handed out (infrastructure that may run on the host).' },
  cloudflareApiUrl: { env: 'SUPERVISOR_CLOUDFLARE_API_URL', schema: z.string().url(), default: 'https://api.cloudflare.com/client/v4', doc: 'Cloudflare API base URL (tests and the demo point it at a local fake). The token is the secret meta/cloudflare/api_token.' },
  cloudflareAccountId: { env: 'SUPERVISOR_CLOUDFLARE_ACCOUNT_ID', schema: z.string().regex(/^[A-Za-z0-9]{1,64}$/).optional(), default: undefined, doc: "Cloudflare account id for remote-managed tunnels; unset means the account of the first zone." },
  cloudflareZones: { env: 'SUPERVISOR_CLOUDFLARE_ZONES', schema: nameList, default: '', doc: 'Comma-separated zone names to manage (e.g. example.com,dev.example.com); empty means every zone the token can read.' },
  cloudflareTunnelId: { env: 'SUPERVISOR_CLOUDFLARE_TUNNEL_ID', schema: z.string().uuid().optional(), default: undefined, doc: "Tunnel UUID whose ingress sync_tunnel manages; unset in local mode means the `tunnel:` key of cloudflared's config file." },
  cloudflareTunnelMode: { env: 'SUPERVISOR_CLOUDFLARE_TUNNEL_MODE', schema: z.enum(['local', 'remote']), default: 'local', doc: "local: write cloudflared's config.yml and restart it; remote: PUT the tunnel configuration through the API." },
  cloudflaredConfig: { env: 'SUPERVISOR_CLOUDFLARED_CONFIG', schema: z.string().min(1), default: '/etc/cloudflared/config.yml', doc: "cloudflared's config file (local mode)." },
  cloudflaredRestart: { env: 'SUPERVISOR_CLOUDFLARED_RESTART', schema: z.string(), default: 'systemctl restart cloudflared', doc: 'Shell command run after config.yml changes (local mode); an empty value in the config file (or `true`) means no restart. On failure the previous file is restored.' },
} as const;

type Settings = typeof SETTINGS;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };
export type SettingName = keyof Settings;

const CONFIG_FILE_ENV = 'SUPERVISOR_CONFIG';

function readConfigFile(path: string): Record<string, unknown> {
  const parsed: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw invalidInput(`config file ${path} must hold a mapping of setting: value`);
  }
  const unknown = Object.keys(parsed).filter((k) => !Object.hasOwn(SETTINGS, k));
  if (unknown.length > 0) {
    throw invalidInput(`config file ${path} has unknown settings: ${unknown.join(', ')}; known: ${Object.keys(SETTINGS).join(', ')}`);
  }
  return parsed as Record<string, unknown>;
}

/**
 * Builds the configuration: defaults, then the config file (`SUPERVISOR_CONFIG`,
 * else `config.yaml` in the data dir when present), then environment variables.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const fromEnv = (name: SettingName) => {
    const value = env[SETTINGS[name].env];
    return value === undefined || value === '' ? undefined : value;
  };
  const home = resolve(fromEnv('home') ?? SETTINGS.home.default);
  const explicitFile = env[CONFIG_FILE_ENV];
  const filePath = explicitFile ? resolve(explicitFile) : join(home, 'config.yaml');
  if (explicitFile && !existsSync(filePath)) throw invalidInput(`${CONFIG_FILE_ENV} names ${filePath}, which does not exist`);
  const file = existsSync(filePath) ? readConfigFile(filePath) : {};

  const config: Record<string, unknown> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const setting = SETTINGS[name];
    const raw = name === 'home' ? home : (fromEnv(name) ?? file[name] ?? setting.default);
    const result = (setting.schema as z.ZodType).safeParse(raw);
    if (!result.success) {
      const reason = result.error.issues[0]?.message ?? 'invalid value';
      throw invalidInput(`setting ${name} (${setting.env}) is invalid: ${reason}`);
    }
    config[name] = result.data;
  }
  return config as Config;
}
