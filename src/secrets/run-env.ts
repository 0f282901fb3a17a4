import { forbidden } from '../core/errors.js';
import { META } from '../core/names.js';
import type { Principal } from '../core/principal.js';
import { LOCAL_HOST, portVariables, type PortService } from '../ports/index.js';
import { projectFolder } from './access.js';
import { toVariables } from './env-names.js';

/** What `get_run_env` uses of the ports domain. */
export type RunEnvPorts = Pick<PortService, 'allocate' | 'projectAllocations'>;

/**
 * Variables that decide how a process starts, what it loads and where it looks:
 * a secret may set one only when the caller names it. Exact names, then prefixes.
 */
export const PROTECTED_VARIABLES = [
  'PATH', 'HOME', 'SHELL', 'USER', 'LOGNAME', 'IFS', 'ENV', 'BASH_ENV', 'CDPATH', 'TMPDIR', 'PERL5LIB', 'PERL5OPT', 'RUBYLIB', 'RUBYOPT', 'GCONV_PATH',
] as const;
export const PROTECTED_PREFIXES = ['LD_', 'DYLD_', 'NODE_', 'PYTHON', 'BASH_FUNC_', 'GIT_', 'NPM_CONFIG_', 'SUPERVISOR_'] as const;

export const isProtected = (name: string): boolean =>
  (PROTECTED_VARIABLES as readonly string[]).includes(name) || PROTECTED_PREFIXES.some((p) => name.startsWith(p));

export interface RunEnvInput {
  project: string;
  service?: string;
  /** Folder whose secrets become variables; default the project's own (meta/ for meta). */
  prefix?: string;
  /** Protected variables the secrets may set after all. */
  allow: string[];
}

export interface RunVariable {
  name: string;
  value: string;
  source: 'secret' | 'port';
  path: string | null;
}

export interface RunEnvDeps {
  readMany(principal: Principal, prefix: string, limit: number): Promise<Array<{ path: string; value: string }>>;
  ports: RunEnvPorts;
}

/** At most this many secrets go into one environment. */
const MAX_SECRETS = 500;

/**
 * The environment `supervisor run` starts a command with: the secrets under the
 * prefix as variables (each read audited like get_secret), and with a service,
 * PORT (reserved on first use) and <SERVICE>_PORT for each service of the project.
 * Port variables win over secrets of the same name.
 */
export async function buildRunEnv(deps: RunEnvDeps, principal: Principal, input: RunEnvInput): Promise<RunVariable[]> {
  const prefix = input.prefix ?? (input.project === META ? `${META}/` : projectFolder(input.project));
  const secrets = toVariables(await deps.readMany(principal, prefix, MAX_SECRETS));
  const refused = secrets.filter((v) => isProtected(v.name) && !input.allow.includes(v.name));
  if (refused.length > 0) {
    const list = refused.map((v) => `${v.name} (from ${v.path})`).join(', ');
    throw forbidden(`secrets may not set ${list}: these variables control how the command starts; rename the secret, or allow it explicitly (\`supervisor run --allow ${refused[0]!.name}\`, get_run_env allow)`, {
      variables: refused.map((v) => ({ name: v.name, path: v.path })),
    });
  }
  const variables = new Map<string, RunVariable>(secrets.map((v) => [v.name, { ...v, source: 'secret' as const }]));
  if (input.service) {
    await deps.ports.allocate(principal, { project: input.project, service: input.service });
    const local = (await deps.ports.projectAllocations(input.project)).filter((a) => a.host === LOCAL_HOST);
    for (const [name, value] of Object.entries(portVariables(local, input.service))) variables.set(name, { name, value, source: 'port', path: null });
  }
  return [...variables.values()];
}
