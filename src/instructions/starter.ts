// `supervisor instructions init`: the instructions root with a small starter set, so a new
// install gives every project's agent useful instructions at once — how to reach this
// supervisor's secrets, ports and hostnames instead of guessing. Existing files are never
// replaced: init can be run again to add starter files someone deleted.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileExclusive } from '../core/files.js';
import { describingFsErrors } from '../core/fs-errors.js';
import { sharedLayerDir } from './layers.js';

export const STARTER_FILES: Array<{ layer: 'core' | 'meta'; name: string; text: string }> = [
  {
    layer: 'core',
    name: '00-supervisor.md',
    text: `# Infrastructure: ask the supervisor

This host's secrets, ports and public hostnames are managed by the supervisor. Use its MCP
tools (endpoint {{mcp.url}}, toolsets: {{mcp.toolsets}}) instead of guessing, searching files
or asking the user. This project is \`{{project.name}}\` in \`{{project.directory}}\`.
`,
  },
  {
    layer: 'core',
    name: '10-secrets.md',
    text: `## Secrets

- Read a credential with \`get_secret\` and its exact path, e.g. \`project/{{project.name}}/database_url\`.
- Store a new or rotated value with \`set_secret\`; \`list_secrets\` lists paths, never values.
- Never write a secret value into code, config files, logs, commits or these instructions.

This project's secrets (paths only):
{{secrets.paths}}
`,
  },
  {
    layer: 'core',
    name: '20-ports.md',
    text: `## Ports

- Never pick or hard-code a port. Ask with \`get_port\` (project \`{{project.name}}\` and a service
  name): the answer never changes and the port stays reserved while the service is down.
- \`allocate_port\` takes options (a preferred port in the range, a public hostname);
  \`list_ports\` shows what is reserved.
- Start a service with its port and this project's secrets in its environment (\`PORT\`, and each
  secret as its upper-cased last path segment):
  \`{{supervisor.command}} run --project {{project.name}} --service <name> -- <command>\`.
  Over MCP, \`get_run_env\` gives the same environment.

Port range: {{ports.range}}. Services:
{{ports.services}}
`,
  },
  {
    layer: 'core',
    name: '30-hostnames.md',
    text: `## Public hostnames

- A service gets a public hostname through \`allocate_port\` with \`hostname\`. A project
  names hostnames that carry its own name as a label (\`api.{{project.name}}.example.com\`);
  any other is given by the meta supervisor.
- After a hostname is added or changed, the tunnel serves it only once \`sync_tunnel\` has run
  (it also creates the DNS record). \`sync_tunnel\` and \`create_cname\` need an admin token:
  from a project, ask the meta supervisor to run them.
`,
  },
  {
    layer: 'meta',
    name: '00-meta.md',
    text: `## You are the meta supervisor

- You hold the admin token: run \`sync_tunnel\` when a project adds or changes a hostname, and
  \`create_cname\` for DNS names outside the tunnel.
- Instructions shared by every project live in the instructions root (.supervisor-core/).
  To change what every agent is told: \`write_instruction_layer\`, then
  \`regenerate_instructions\` with all (one call for every project). \`check_instructions\`
  finds blocks that are stale or were edited by hand.
`,
  },
];

const FILE_MODE = 0o644;

/** Creates the layer folders and the starter files that do not exist yet. */
export async function initInstructionsRoot(root: string): Promise<{ created: string[]; kept: string[] }> {
  const created: string[] = [];
  const kept: string[] = [];
  for (const file of STARTER_FILES) {
    const dir = sharedLayerDir(root, file.layer);
    const path = join(dir, file.name);
    await describingFsErrors('create', dir, () => mkdir(dir, { recursive: true }));
    const isNew = await describingFsErrors('create', path, () => createFileExclusive(path, file.text, FILE_MODE));
    (isNew ? created : kept).push(path);
  }
  return { created, kept };
}
