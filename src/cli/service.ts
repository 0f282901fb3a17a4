import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SupervisorError } from '../core/errors.js';
import { writeFileAtomic } from '../core/files.js';
import { dataDir } from './connection.js';
import { CLI_ENTRY, DAEMON_NODE_FLAGS } from './entry.js';
import type { Output } from './program.js';
import { takeSwitch } from './program.js';
import { UsageError } from './usage-error.js';

/** A word of Environment=: quoted (systemd's rules) when it holds spaces, quotes, backslashes, `$` or specifiers (`%`). */
const envWord = (word: string) => (/^[\w@+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1').replace(/%/g, '%%')}"`);
/** A word of ExecStart=, where `$` also expands variables (systemd.service "Command lines"): written `$$`. Environment= takes `$` as it is. */
const execWord = (word: string) => envWord(word.replace(/\$/g, '$$$$'));

/**
 * The systemd user unit of the daemon: node and this checkout's entry by
 * absolute path, the data dir, restart on failure, SIGTERM for a clean stop.
 * Settings and secrets stay in the data dir (config.yaml, master.key), never here.
 * `path` is the installing shell's PATH: the daemon runs programs by name (the PIV loop's
 * `claude`, git, a cloudflared restart), and a user manager's PATH lacks ~/.local/bin,
 * where Claude Code installs itself.
 */
export function unitFile(home: string, path: string | undefined): string {
  return `[Unit]
Description=Supervisor daemon (secrets, ports, DNS and tunnels for many projects)
Documentation=file://${join(dirname(CLI_ENTRY), '..', '..', 'README.md').replace(/%/g, '%%')}

[Service]
Type=simple
ExecStart=${[process.execPath, ...DAEMON_NODE_FLAGS, CLI_ENTRY, 'daemon'].map(execWord).join(' ')}
Environment=${envWord(`SUPERVISOR_HOME=${home}`)}
${path ? `Environment=${envWord(`PATH=${path}`)}\n` : ''}Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=45
UMask=0077

[Install]
WantedBy=default.target
`;
}

export function unitPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'systemd', 'user', 'supervisor.service');
}

/** Settings this shell's environment gives the daemon (SUPERVISOR_HOME is in the unit; the client's own SUPERVISOR_URL and SUPERVISOR_TOKEN are no settings). */
export function settingsFromEnvironment(env: NodeJS.ProcessEnv): string[] {
  const client = new Set(['SUPERVISOR_HOME', 'SUPERVISOR_URL', 'SUPERVISOR_TOKEN']);
  return Object.keys(env)
    .filter((name) => env[name] && (name === 'DATABASE_URL' || (name.startsWith('SUPERVISOR_') && !client.has(name))))
    .sort();
}

/** `supervisor service install [--print] [--force]`. */
export async function serviceInstall(words: string[], out: Output, errOut: Output): Promise<number> {
  const print = takeSwitch(words, 'print');
  const force = takeSwitch(words, 'force');
  takeSwitch(words, 'user'); // the only kind there is; accepted so `--user` reads as systemctl does
  if (words.length > 0) throw new UsageError(`service install: unknown flag ${words[0]}`, 'supervisor service install [--print] [--force]');
  const unit = unitFile(dataDir(), process.env.PATH);
  const left = settingsFromEnvironment(process.env);
  // The unit starts the daemon with none of this shell's settings: one set here would not be there.
  const warning = left.length === 0 ? '' : `warning: the unit does not carry ${left.join(', ')} from this shell. Put settings in the config file (\`supervisor config set <name> <value>\`), and the master key in master.key or an EnvironmentFile= (0600) of a drop-in (\`systemctl --user edit supervisor\`).\n`;
  if (print) {
    // stdout is the unit alone (it may be redirected to a file); the warning goes beside it.
    out.write(unit);
    errOut.write(warning);
    return 0;
  }
  const path = unitPath();
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined && existing !== unit && !force) {
    throw new SupervisorError('conflict', `${path} exists and differs from the unit for this install; compare with \`supervisor service install --print\`, then add --force to replace it`);
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  if (existing !== unit) await writeFileAtomic(path, unit, 0o644);
  out.write(`${existing === unit ? 'unchanged' : 'wrote'} ${path}\n${warning && `\n${warning}`}\nStart it now and at every login:\n  systemctl --user daemon-reload\n  systemctl --user enable --now supervisor\nKeep it running while you are logged out:\n  loginctl enable-linger ${process.env.USER ?? '$USER'}\nLogs: journalctl --user -u supervisor -f    Stop: systemctl --user stop supervisor\n`);
  return 0;
}
