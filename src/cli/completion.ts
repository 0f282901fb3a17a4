import type { CommandManifest } from './commands.js';
import { kebab } from './cli-terms.js';
import { BUILTINS } from './help.js';
import { UsageError } from './usage-error.js';

const GLOBAL = ['--json', '--help', '--field', '--wide', '--all'];

interface Tree {
  groups: string[];
  verbs: Map<string, string[]>;
  flags: Map<string, string[]>;
}

/** Every group, its verbs and each command's flags, from the manifest and the built-in commands. */
function tree(manifest: CommandManifest): Tree {
  const verbs = new Map<string, string[]>();
  const flags = new Map<string, string[]>();
  for (const cmd of manifest.commands) {
    const [group, verb] = cmd.cli.command;
    verbs.set(group, [...(verbs.get(group) ?? []), verb]);
    const own = cmd.input.flatMap((f) => (f.type === 'boolean' ? [`--${kebab(f.name)}`, `--no-${kebab(f.name)}`] : [`--${kebab(f.name)}`]));
    flags.set(`${group} ${verb}`, [...new Set([...own, ...Object.keys(cmd.cli.flags ?? {}).map((f) => `--${f}`), ...(cmd.cli.wait ? ['--wait'] : []), '--input', ...GLOBAL])]);
  }
  for (const b of BUILTINS) {
    if (!verbs.has(b.group)) verbs.set(b.group, []);
    if (b.verb) verbs.get(b.group)!.push(b.verb);
    const key = b.verb ? `${b.group} ${b.verb}` : b.group;
    flags.set(key, [...new Set([...(b.usage.match(/--[a-z-]+/g) ?? []), '--help'])]);
  }
  return { groups: [...verbs.keys()], verbs, flags };
}

function bash(t: Tree): string {
  const verbCases = [...t.verbs].filter(([, v]) => v.length > 0).map(([g, v]) => `      ${g}) words="${v.join(' ')}" ;;`);
  const flagCases = [...t.flags].map(([k, f]) => `      "${k}") words="${f.join(' ')}" ;;`);
  return `# supervisor completion for bash: source <(supervisor completion bash)
_supervisor() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" words=""
  local group="\${COMP_WORDS[1]}" verb="\${COMP_WORDS[2]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${t.groups.join(' ')} --help --version"
  elif [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then
    case "$group" in
${verbCases.join('\n')}
      completion) words="bash zsh fish" ;;
    esac
  elif [[ "$cur" == -* ]]; then
    case "$group $verb" in
${flagCases.join('\n')}
      *) case "$group" in
${[...t.flags].filter(([k]) => !k.includes(' ')).map(([k, f]) => `        ${k}) words="${f.join(' ')}" ;;`).join('\n')}
        esac ;;
    esac
  else
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _supervisor supervisor
`;
}

function zsh(t: Tree): string {
  return `#compdef supervisor
# supervisor completion for zsh: supervisor completion zsh > "\${fpath[1]}/_supervisor"
autoload -U +X bashcompinit && bashcompinit
${bash(t).split('\n').slice(1).join('\n')}`;
}

function fish(t: Tree): string {
  const lines = ['# supervisor completion for fish: supervisor completion fish > ~/.config/fish/completions/supervisor.fish', 'complete -c supervisor -f'];
  lines.push(`complete -c supervisor -n __fish_use_subcommand -a '${t.groups.join(' ')}'`);
  for (const [group, verbs] of t.verbs) {
    if (verbs.length > 0) lines.push(`complete -c supervisor -n '__fish_seen_subcommand_from ${group}; and not __fish_seen_subcommand_from ${verbs.join(' ')}' -a '${verbs.join(' ')}'`);
  }
  lines.push(`complete -c supervisor -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`);
  for (const [key, flags] of t.flags) {
    const [group, verb] = key.split(' ');
    const when = verb ? `__fish_seen_subcommand_from ${group}; and __fish_seen_subcommand_from ${verb}` : `__fish_seen_subcommand_from ${group}`;
    for (const flag of flags) lines.push(`complete -c supervisor -n '${when}' -l ${flag.slice(2)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `supervisor completion bash|zsh|fish`: the script, built from the same commands the CLI runs. */
export function completion(words: string[], manifest: CommandManifest): string {
  const shell = words[0];
  const t = tree(manifest);
  if (words.length !== 1 || (shell !== 'bash' && shell !== 'zsh' && shell !== 'fish')) throw new UsageError(`completion: name a shell: bash, zsh or fish${shell ? `, not "${words.join(' ')}"` : ''}`, 'supervisor completion <bash|zsh|fish>');
  return shell === 'bash' ? bash(t) : shell === 'zsh' ? zsh(t) : fish(t);
}
