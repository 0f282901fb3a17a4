import { unwatchFile, watchFile } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { basename, dirname } from 'node:path';
import { isMap, parseDocument, type Document } from 'yaml';
import { CORE_SETTINGS, configFilePath, type Config, type SettingsTable } from './config.js';
import { invalidInput, notFound, SupervisorError } from './errors.js';
import { removeStrayTempFiles, writeFileAtomic } from './files.js';
import { KeyedLock } from './keyed-lock.js';
import { lockFileWaiting } from './lock-file.js';
import type { Logger } from './log.js';
import { withoutPassword } from './masked-url.js';
import { parseSetting, parseSettingToSet, settingPath, type SettingDef } from './settings.js';
import { unsetKeepingComments, yamlText } from './yaml-unset.js';

export interface SettingView {
  name: string;
  env: string;
  domain: string;
  /** What the running process uses, as text; null when unset; hidden for sensitive settings. */
  value: string | null;
  /** Where the value in use is taken from: the environment wins over the config file, which wins over the default. */
  source: 'env' | 'file' | 'default';
  /** What the next start will use, when it differs from value (a setting changed that needs a restart). */
  pending?: string | null;
  /** Applied to a running daemon by set_setting; otherwise a change takes a restart. */
  live: boolean;
  doc: string;
}

export interface SetOutcome {
  setting: SettingView;
  file: string;
  /** live: the running process uses it now; restart: written, used from the next start; overridden: the environment wins. */
  applied: 'live' | 'restart' | 'overridden';
  message: string;
}

interface Entry {
  name: string;
  domain: string;
  def: SettingDef;
}

function shown(def: SettingDef, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return def.sensitive ? withoutPassword(text, '(set, hidden)') : text;
}

/** Writes of a config file, one at a time within the process, whichever store makes them. */
const FILE_WRITES = new KeyedLock();
/** How often a daemon looks at its config file for changes made by another process. */
const FOLLOW_EVERY_MS = 2_000;
/** How long a write waits for another process's write of the same file (each takes milliseconds). */
const CONFIG_LOCK_WAIT_MS = 10_000;

/**
 * The settings of core and every domain, read and written through the config
 * file (atomically, keeping its comments); live settings are applied to the
 * running process at once. The environment still wins, and the answer says so.
 */
export class SettingsStore {
  private readonly entries: Entry[];

  constructor(
    private readonly config: Config,
    tables: readonly SettingsTable[],
    private readonly log?: Logger,
  ) {
    this.entries = [
      ...Object.entries(CORE_SETTINGS).map(([name, def]) => ({ name, domain: 'core', def: def as SettingDef })),
      ...tables.flatMap((t) => Object.entries(t.settings ?? {}).map(([name, def]) => ({ name, domain: t.id, def }))),
    ];
  }

  private get env(): NodeJS.ProcessEnv {
    return this.config.env ?? process.env;
  }

  private get file(): string {
    return this.config.configFile ?? configFilePath(this.env, this.config.home);
  }

  /** A setting by file key (`cloudflareTunnelId`) or environment variable (`SUPERVISOR_CLOUDFLARE_TUNNEL_ID`). */
  private find(name: string): Entry {
    const entry = this.entries.find((e) => e.name === name || e.def.env === name);
    if (!entry) throw notFound(`no setting ${name}; list_settings shows them all (by file key or environment variable)`);
    return entry;
  }

  private current(entry: Entry): unknown {
    return this.inUse(entry, this.holderOf(entry)?.[entry.name]);
  }

  /** Unset, a path setting that lives in the data dir is that path: what is in use, not "-". */
  private inUse(entry: Entry, value: unknown): unknown {
    return value === undefined && entry.def.inDataDir !== undefined ? settingPath(entry.def, undefined, this.config.home) : value;
  }

  /** The config file as a YAML document (empty when there is no file), comments and all. */
  private async document(): Promise<Document> {
    return parseDocument(await readFile(this.file, 'utf8').catch(() => ''));
  }

  private async fileValues(): Promise<Record<string, unknown>> {
    return ((await this.document()).toJSON() as Record<string, unknown> | null) ?? {};
  }

  private view(entry: Entry, file: Record<string, unknown>): SettingView {
    const fromEnv = this.env[entry.def.env];
    const sourceIn = (f: Readonly<Record<string, unknown>>) => (fromEnv !== undefined && fromEnv !== '' ? 'env' : Object.hasOwn(f, entry.name) ? 'file' : 'default');
    const source = sourceIn(file);
    const value = shown(entry.def, this.current(entry));
    const next = this.configured(entry, source === 'env' ? fromEnv : source === 'file' ? file[entry.name] : entry.def.default);
    return {
      name: entry.name,
      env: entry.def.env,
      domain: entry.domain,
      value,
      // Where the value in use came from: for a setting that waits for a restart, the file as it was read at start.
      source: entry.def.live || !this.config.fileAtStart ? source : sourceIn(this.config.fileAtStart),
      ...(next !== undefined && next !== value ? { pending: next } : {}),
      live: entry.def.live === true,
      doc: entry.def.doc,
    };
  }

  /** A setting's value as its source gives it now, shown as `value` is; undefined when the source does not parse (the start would refuse it). */
  private configured(entry: Entry, raw: unknown): string | null | undefined {
    try {
      return shown(entry.def, this.inUse(entry, parseSetting(entry.name, entry.def, raw)));
    } catch {
      return undefined;
    }
  }

  async list(): Promise<SettingView[]> {
    const file = await this.fileValues();
    return this.entries.map((e) => this.view(e, file));
  }

  /** Settings the environment sets to something other than the config file says: the environment's value is the one used. */
  async disagreements(): Promise<string[]> {
    const file = await this.fileValues();
    return this.entries
      .filter((e) => {
        const fromEnv = this.env[e.def.env];
        return fromEnv !== undefined && fromEnv !== '' && Object.hasOwn(file, e.name) && String(file[e.name]) !== fromEnv;
      })
      .map((e) => `${e.def.env} from the environment is used; ${e.name} in ${this.file} says otherwise (\`supervisor config get ${e.name}\`)`);
  }

  /** The config file with one setting changed (null removes it), its comments and the rest kept; the caller holds the locks. */
  private async write(entry: Entry, value: string | null, parsed: unknown): Promise<void> {
    const doc = await this.document();
    if (doc.errors.length > 0) throw invalidInput(`config file ${this.file} is not valid YAML (${doc.errors[0]!.message}); fix it by hand first`);
    // An empty file (or only comments) has no mapping yet.
    if (!isMap(doc.contents)) doc.contents = doc.createNode({}) as unknown as typeof doc.contents;
    if (value === null) unsetKeepingComments(doc, entry.name);
    // Numbers and switches go in as YAML numbers and booleans; lists stay as written (a,b).
    else doc.set(entry.name, typeof parsed === 'number' || typeof parsed === 'boolean' ? parsed : value);
    await writeFileAtomic(this.file, yamlText(doc), 0o600);
  }

  async get(name: string): Promise<SettingView> {
    return this.view(this.find(name), await this.fileValues());
  }

  /** Writes one setting to the config file (null removes it, back to the default) and applies it now when it is live. */
  async set(name: string, value: string | null): Promise<SetOutcome> {
    const entry = this.find(name);
    if (entry.def.notSettable) throw invalidInput(entry.def.notSettable);
    // The default is not checked by whenSet: unset goes back to it whatever it is.
    const parsed = value === null ? parseSetting(entry.name, entry.def, entry.def.default) : parseSettingToSet(entry.name, entry.def, value);
    // A read-modify-write of the whole file: two at once would each write back the file without the
    // other's change. Within the process (requests served side by side) a keyed lock; across
    // processes (daemons sharing a data dir, `config set` beside a daemon) a lock file next to it.
    await FILE_WRITES.run(this.file, async () => {
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      const lock = await lockFileWaiting(`${this.file}.lock`, 'config write', CONFIG_LOCK_WAIT_MS, (holder) => new SupervisorError('unavailable', `${this.file} is being written by process ${holder.pid} (${holder.role}) for more than ${CONFIG_LOCK_WAIT_MS / 1000} s; try again, or remove ${this.file}.lock if that process is stuck`));
      try {
        // A writer killed mid-write left its temp file (of the file, or of the lock); none runs now.
        await removeStrayTempFiles(dirname(this.file), [basename(this.file), basename(`${this.file}.lock`)]);
        await this.write(entry, value, parsed);
      } finally {
        await lock.release();
      }
    });

    const fromEnv = this.env[entry.def.env];
    let applied: SetOutcome['applied'];
    let message: string;
    if (fromEnv !== undefined && fromEnv !== '') {
      applied = 'overridden';
      message = `written to ${this.file}, but ${entry.def.env} is set in the environment and wins; unset it for the file to count`;
    } else if (entry.def.live) {
      this.apply(entry, parsed);
      applied = 'live';
      message = `written to ${this.file} and in use now`;
    } else {
      applied = 'restart';
      message = `written to ${this.file}; used from the daemon's next start (if it runs now: \`supervisor daemon stop\`, then start it)`;
    }
    this.log?.info({ setting: entry.name, applied }, 'setting changed');
    return { setting: this.view(entry, (await this.fileValues()) ?? {}), file: this.file, applied, message };
  }

  /**
   * Takes up live settings another process changed in the config file: a daemon sharing this
   * data dir (each one's set_setting wrote the file for both, and applied it to itself only),
   * `config set` run without a daemon, or a person's editor. The environment still wins; a
   * value that does not parse is left unused and logged. Returns the settings it changed.
   */
  async reload(): Promise<string[]> {
    const doc = await this.document();
    if (doc.errors.length > 0) {
      this.log?.warn({ file: this.file, reason: doc.errors[0]!.message }, 'the config file is not valid YAML; the settings in use stay as they are');
      return [];
    }
    const file = (doc.toJSON() as Record<string, unknown> | null) ?? {};
    const changed: string[] = [];
    for (const entry of this.entries.filter((e) => e.def.live)) {
      const fromEnv = this.env[entry.def.env];
      if (fromEnv !== undefined && fromEnv !== '') continue;
      let value: unknown;
      try {
        value = parseSetting(entry.name, entry.def, Object.hasOwn(file, entry.name) ? file[entry.name] : entry.def.default);
      } catch (err) {
        this.log?.warn({ setting: entry.name, file: this.file, reason: (err as Error).message }, 'a setting in the config file cannot be used; the one in use stays');
        continue;
      }
      if (isDeepStrictEqual(value, this.holderOf(entry)?.[entry.name])) continue;
      this.apply(entry, value);
      changed.push(entry.name);
    }
    if (changed.length > 0) this.log?.info({ settings: changed, file: this.file }, 'settings changed in the config file; in use now');
    return changed;
  }

  /** Reloads whenever the config file changes (looked at every `everyMs`: a rename over it, as every write makes, is seen too); the answer stops it. */
  follow(everyMs = FOLLOW_EVERY_MS): () => void {
    const file = this.file;
    const changed = () => void this.reload().catch((err: unknown) => this.log?.warn({ err, file }, 'could not read the config file'));
    watchFile(file, { interval: everyMs, persistent: false }, changed);
    return () => unwatchFile(file, changed);
  }

  /** The object a setting's value lives in (services hold the same objects); undefined for a domain with no settings loaded. */
  private holderOf(entry: Entry): Record<string, unknown> | undefined {
    return entry.domain === 'core' ? (this.config as unknown as Record<string, unknown>) : this.config.domains[entry.domain];
  }

  private apply(entry: Entry, value: unknown): void {
    // Services hold these same objects and read live settings at each use.
    const holder = this.holderOf(entry);
    if (holder) holder[entry.name] = value;
    if (entry.name === 'logLevel' && this.log) this.log.level = value as string;
  }
}
