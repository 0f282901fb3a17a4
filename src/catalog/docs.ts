import { CORE_SETTINGS, type SettingsTable } from '../core/config.js';
import type { SettingDef } from '../core/settings.js';
import type { Toolset } from './catalog.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

function shownDefault(def: SettingDef): string {
  if (def.shownDefault !== undefined) return `\`${def.shownDefault}\``;
  if (def.default === undefined) return '—';
  if (def.default === '') return '(empty)';
  return `\`${String(def.default)}\``;
}

/**
 * The README's settings table: core's settings, then each domain's, built from
 * the same tables the loader reads, so a setting cannot be documented and not
 * exist, or the other way round.
 */
export function settingsTable(domains: readonly SettingsTable[]): string {
  const rows = [['core', CORE_SETTINGS] as const, ...domains.map((d) => [d.id, d.settings ?? {}] as const)].flatMap(([owner, spec]) =>
    // A setting the config file may not hold has no file key: only its variable sets it.
    // Applies: a live setting is used by the running daemon as soon as it is set; the others at its next start.
    Object.entries(spec).map(([name, def]) => `| \`${def.env}\` | ${def.notSettable ? '—' : `\`${name}\``} | ${owner} | ${cell(shownDefault(def))} | ${def.live ? 'at once' : 'restart'} | ${cell(def.doc)} |`),
  );
  return ['| Environment variable | File key | Domain | Default | Applies | Meaning |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The README's toolsets table: each domain's id, what it is for, where it is on by default, its tools. */
export function toolsetsTable(toolsets: readonly Toolset[]): string {
  const rows = toolsets.map((t) => {
    const where = t.defaultFor.length === 0 ? 'on request' : t.defaultFor.map((e) => (e === 'meta' ? '/mcp/meta' : '/mcp/<project>')).join(', ');
    return `| \`${t.id}\` | ${cell(t.description)} | ${where} | ${t.operations.map((op) => `\`${op.name}\``).join(', ')} |`;
  });
  return ['| Toolset | What it is for | Default on | Tools |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function replaceBetweenMarkers(doc: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from === -1 || to < from) throw new Error(`the document has no ${start} … ${end} markers`);
  return `${doc.slice(0, from + start.length)}\n${content}\n${doc.slice(to)}`;
}
