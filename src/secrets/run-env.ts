import { conflict, forbidden } from '../core/errors.js';
import { META } from '../core/names.js';
import type { Principal } from '../core/principal.js';
import { LOCAL_HOST, portVariableName, portVariables, type PortService } from '../ports/index.js';
import { projectFolder } from './access.js';
import { toVariables, variableNames } from './env-names.js';

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

/** A secret read for an environment or an export: its current value, and whether its expiresAt has passed. */
export interface ReadSecret {
  path: string;
  value: string;
  expiresAt: Date | null;
  expired: boolean;
}

/** The variables, and the secrets among them whose credentials may no longer work (expiresAt passed). */
export interface RunEnv {
  variables: RunVariable[];
  expired: ExpiredSecret[];
}

export interface ExpiredSecret {
  name: string;
  path: string;
  expiresAt: Date;
}

/** The expired ones among secrets turned into variables, for the answer to say so (get_secret's `expired`). */
export const expiredAmong = (secrets: ReadonlyArray<ReadSecret & { name: string }>): ExpiredSecret[] =>
  secrets.filter((s) => s.expired && s.expiresAt !== null).map((s) => ({ name: s.name, path: s.path, expiresAt: s.expiresAt! }));

export interface RunEnvDeps {
  readMany(principal: Principal, prefix: string, limit: number, check: (paths: readonly string[]) => void): Promise<ReadSecret[]>;
  ports: RunEnvPorts;
}

/** At most this many secrets go into one environment. */
const MAX_SECRETS = 500;

/**
 * The environment `supervisor run` starts a command with: the secrets under the
 * prefix as variables (each read audited like get_secret), and with a service,
 * PORT (reserved on first use) and <SERVICE>_PORT for each service of the project.
 * A secret that would set one of those port variables is refused, never overridden in silence.
 * Every refusal comes from the paths alone, before any value is read (and audited as read).
 */
export async function buildRunEnv(deps: RunEnvDeps, principal: Principal, input: RunEnvInput): Promise<RunEnv> {
  const prefix = input.prefix ?? (input.project === META ? `${META}/` : projectFolder(input.project));
  const localAllocations = async () => (await deps.ports.projectAllocations(input.project)).filter((a) => a.host === LOCAL_HOST);
  const portNames = input.service ? new Set(['PORT', portVariableName(input.service), ...(await localAllocations()).map((a) => portVariableName(a.service))]) : new Set<string>();
  const secrets = toVariables(await deps.readMany(principal, prefix, MAX_SECRETS, (paths) => checkNames(variableNames(paths), input, portNames)));
  const variables: RunVariable[] = secrets.map((v) => ({ name: v.name, value: v.value, source: 'secret', path: v.path }));
  if (input.service) {
    await deps.ports.allocate(principal, { project: input.project, service: input.service });
    for (const [name, value] of Object.entries(portVariables(await localAllocations(), input.service))) variables.push({ name, value, source: 'port', path: null });
  }
  return { variables, expired: expiredAmong(secrets) };
}

/** Refuses secrets that would set a protected variable (unless allowed) or one of the service's port variables. */
function checkNames(names: Array<{ name: string; path: string }>, input: RunEnvInput, portNames: ReadonlySet<string>): void {
  const refused = names.filter((v) => isProtected(v.name) && !input.allow.includes(v.name));
  if (refused.length > 0) {
    const list = refused.map((v) => `${v.name} (from ${v.path})`).join(', ');
    throw forbidden(`secrets may not set ${list}: these variables control how the command starts; rename the secret, or allow it explicitly: \`--allow ${refused[0]!.name}\` (supervisor run, get_run_env)`, {
      variables: refused.map((v) => ({ name: v.name, path: v.path })),
    });
  }
  const taken = names.filter((v) => portNames.has(v.name));
  if (taken.length > 0) {
    const list = taken.map((v) => `${v.path} (${v.name})`).join(', ');
    throw conflict(`${list}: with service ${input.service} these variables hold the project's ports; rename or delete the secret, narrow the prefix, or leave out the service`, {
      variables: taken.map((v) => ({ name: v.name, path: v.path })),
    });
  }
}
