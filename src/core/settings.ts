import { join, resolve } from 'node:path';
import type { z } from 'zod';
import { invalidInput } from './errors.js';

/**
 * One configuration entry: its environment variable, its config-file key (the
 * name it has in its table), its default and its meaning. Core and every domain
 * declare theirs in a table like this; loading, validation and the README's
 * settings table are all built from these tables.
 */
export interface SettingDef<S extends z.ZodType = z.ZodType> {
  env: string;
  schema: S;
  /** Parsed by `schema` like any other raw value (text from the environment, or a YAML value). */
  default: unknown;
  doc: string;
  /** The default as the docs show it, where the value depends on the machine (a home directory). */
  shownDefault?: string;
  /**
   * Unset, the setting is this path in the data dir. It cannot be the default: the data dir is a
   * setting too. Whoever uses the setting, and list_settings, resolve it with settingPath.
   */
  inDataDir?: string;
  /** Read at each use, so `set_setting` applies it to a running daemon; otherwise a change needs a restart. */
  live?: boolean;
  /** Never shown by `list_settings` / `get_setting` (a key, or a URL that may carry a password). */
  sensitive?: boolean;
  /** Why `set_setting` refuses it, and how it is set instead (the data dir itself, the master key). */
  notSettable?: string;
  /**
   * A stricter check `set_setting` adds to `schema`, for values the daemon would find wrong only
   * later. Not applied to what a config file or the environment already holds: an upgrade must
   * not stop a daemon over a value an earlier version took (nor `config set` from repairing it).
   */
  whenSet?: z.ZodType;
}

export type SettingsSpec = Record<string, SettingDef>;

export type SettingValues<S extends SettingsSpec> = { [K in keyof S]: z.output<S[K]['schema']> };

/** Keeps the literal keys and schemas of a settings table for typing. */
export const defineSettings = <const S extends SettingsSpec>(spec: S): S => spec;

/** Where raw values come from, by priority: the environment, then the config file. */
export interface SettingSources {
  env: NodeJS.ProcessEnv;
  file: Record<string, unknown>;
  /** The config file's path, to name it in errors. */
  fileName?: string;
}

/** The raw value a setting gets from the environment, the file or its default, in that order. */
export function rawSetting(name: string, def: SettingDef, sources: SettingSources): unknown {
  const fromEnv = sources.env[def.env];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return Object.hasOwn(sources.file, name) ? sources.file[name] : def.default;
}

/**
 * Parses one setting's raw value, or throws `invalid_input` naming the setting and where the
 * value came from (its variable unless told: a bad value in the config file is fixed there).
 */
export function parseSetting(name: string, def: SettingDef, raw: unknown, from: string = def.env): unknown {
  return checked(name, def.schema, raw, from);
}

/** A value `set_setting` is about to write: `schema`, then the stricter `whenSet`; a refusal names the input's field, value. */
export function parseSettingToSet(name: string, def: SettingDef, raw: unknown): unknown {
  const details = { field: 'value', setting: name };
  const parsed = checked(name, def.schema, raw, def.env, details);
  if (def.whenSet) checked(name, def.whenSet, raw, def.env, details);
  return parsed;
}

function checked(name: string, schema: z.ZodType, raw: unknown, from: string, details?: Record<string, unknown>): unknown {
  const result = schema.safeParse(raw);
  if (!result.success) throw invalidInput(`setting ${name} (${from}) is invalid: ${reasonOf(result.error.issues[0], raw)}`, details);
  return result.data;
}

/**
 * zod's words for a setting's value, in the value's terms where they are not: "expected number,
 * received NaN" for `abc`, "expected int, received number" for `1.5`, "Too big: expected number
 * to be <=65535" for a port, and "Invalid input" for a word a union of true/false refused.
 */
function reasonOf(issue: z.core.$ZodIssue | undefined, raw: unknown): string {
  if (!issue) return 'invalid value';
  const shown = JSON.stringify(raw);
  if (issue.code === 'invalid_type' && issue.expected === 'number') return `${shown} is not a number`;
  if (issue.code === 'invalid_type' && issue.expected === 'int') return `${shown} is not a whole number`;
  if (issue.code === 'invalid_value') return `${shown} is not one of ${issue.values.map(String).join(', ')}`;
  if (issue.code === 'too_big' && issue.origin === 'number') return `${shown} is more than ${String(issue.maximum)}, the most it may be`;
  if (issue.code === 'too_small' && issue.origin === 'number') return `${shown} is less than ${String(issue.minimum)}, the least it may be`;
  if (issue.code === 'invalid_union') {
    const options = issue.errors.flat().find((i) => i.code === 'invalid_value');
    if (options) return reasonOf(options, raw);
  }
  return issue.message;
}

/** A path setting's value, or its place in the data dir `home` when it is unset (SettingDef.inDataDir). */
export function settingPath(def: SettingDef, value: string | undefined, home: string): string | undefined {
  if (value !== undefined) return resolve(value);
  return def.inDataDir === undefined ? undefined : join(home, def.inDataDir);
}

/** Reads every setting of one table. */
export function readSettings<S extends SettingsSpec>(spec: S, sources: SettingSources): SettingValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(spec)) {
    const fromEnv = sources.env[def.env] !== undefined && sources.env[def.env] !== '';
    const from = !fromEnv && Object.hasOwn(sources.file, name) ? `${name} in ${sources.fileName ?? 'the config file'}` : def.env;
    values[name] = parseSetting(name, def, rawSetting(name, def, sources), from);
  }
  return values as SettingValues<S>;
}
