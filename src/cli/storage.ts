import type { AppDefinition } from '../catalog/wire.js';
import type { Domain } from '../catalog/domain.js';
import type { Db } from '../core/db.js';
import { SupervisorError } from '../core/errors.js';
import { daemonTarget } from './connection.js';
import type { Output } from './program.js';
import { takeOption, takeSwitch } from './program.js';
import { UsageError } from './usage-error.js';

const USAGE = 'supervisor storage copy (--to <postgres-url> | --from <postgres-url>) [--force] [--no-switch]';


/**
 * `supervisor storage copy --to postgres://…`: everything in the data dir's embedded
 * database into an empty PostgreSQL database, in one consistent snapshot; row counts
 * compared table by table and every current secret decrypted on the target; then
 * databaseUrl is set in the config file. `--from` the other way, unsetting it.
 * The daemon must be stopped (it holds the embedded database).
 */
export async function storageCopy(words: string[], app: AppDefinition & { domains?: readonly Domain[] }, json: boolean, out: Output, errOut: Output): Promise<number> {
  const to = takeOption(words, 'to');
  const from = takeOption(words, 'from');
  const force = takeSwitch(words, 'force');
  const noSwitch = takeSwitch(words, 'no-switch');
  if (words.length > 0) throw new UsageError(`storage copy: unknown flag ${words[0]}`, USAGE);
  if ((to === undefined) === (from === undefined)) throw new UsageError('storage copy: give exactly one of --to <postgres-url> (embedded → PostgreSQL) or --from <postgres-url> (PostgreSQL → embedded)', USAGE);
  const url = (to ?? from)!;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`storage copy: ${to ? '--to' : '--from'} must be a postgres:// URL`, USAGE);
  if (await daemonTarget()) throw new SupervisorError('locked', 'the daemon is running and holds the database; stop it first (`supervisor daemon stop`), copy, then start it again');

  const [{ openPglite }, { openPostgres }, { dataDirFiles, ensureDataDir, hasCluster, lockDataDir }, { migrate }, { copyDatabase }, { SettingsStore }, { createLogger }, { forgetPostgres }, { withoutPassword }] = await Promise.all([
    import('../core/db-pglite.js'),
    import('../core/db-postgres.js'),
    import('../core/datadir.js'),
    import('../core/migrate.js'),
    import('../core/db-copy.js'),
    import('../core/settings-store.js'),
    import('../core/log.js'),
    import('../core/open-db.js'),
    import('../core/masked-url.js'),
  ]);
  const config = app.loadConfig();
  const domains = app.domains ?? [];
  // Checked before the data dir is made: a mistyped SUPERVISOR_HOME would copy a new, empty
  // database (and with --force, empty the target).
  const embeddedDb = dataDirFiles(config.home).db;
  if (to && !hasCluster(embeddedDb)) {
    throw new SupervisorError('not_found', `there is no embedded database to copy in ${config.home} (no ${embeddedDb}); is SUPERVISOR_HOME the daemon's data dir?`);
  }
  await ensureDataDir(config.home);
  const lock = await lockDataDir(config.home, 'supervisor storage copy');
  const opened: Db[] = [];
  try {
    const embedded = await openPglite({ dataDir: embeddedDb });
    opened.push(embedded);
    const server = await openPostgres({ connectionString: url, urlSource: `the URL given to ${to ? '--to' : '--from'}`, statementTimeoutMs: config.databaseStatementTimeoutMs, maxConnections: config.databasePoolSize });
    opened.push(server);
    const [source, target] = to ? [embedded, server] : [server, embedded];
    const progress = process.stderr.isTTY && !json ? (line: string) => errOut.write(`… ${line}\n`) : undefined;
    const outcome = await copyDatabase(source, target, { force, migrate: async (db) => void (await migrate(db, domains)), progress });
    await Promise.all(opened.splice(0).map((db) => db.close()));

    // The target, opened as the supervisor opens it: every current secret must decrypt with this data dir's keys.
    progress?.('decrypting every current secret on the target');
    const targetDb = to ? await openPostgres({ connectionString: url, statementTimeoutMs: config.databaseStatementTimeoutMs, maxConnections: config.databasePoolSize }) : await openPglite({ dataDir: embeddedDb });
    const services = await app.open({ config, db: targetDb, log: createLogger('warn') });
    let verified: { checked: number; failed: string[] };
    try {
      verified = await (services.serviceOf('secrets') as { verifyDecryptable(): Promise<{ checked: number; failed: string[] }> }).verifyDecryptable();
    } finally {
      await services.close();
    }
    if (verified.failed.length > 0) throw new SupervisorError('integrity', `copied, but ${verified.failed.length} secrets do not decrypt on the target (${verified.failed.slice(0, 5).join(', ')}); databaseUrl was not changed`);

    let switched: string | undefined;
    if (!noSwitch) {
      const store = new SettingsStore(config, []);
      switched = (await store.set('databaseUrl', to ? url : null)).message;
      if (!to) await forgetPostgres(config.home);
    }
    const answer = { from: to ? 'embedded' : withoutPassword(url), to: to ? withoutPassword(url) : 'embedded', tables: outcome.tables, secretsDecrypted: verified.checked, databaseUrl: noSwitch ? 'unchanged' : to ? 'set' : 'unset', note: switched ?? null };
    if (json) out.write(`${JSON.stringify(answer, null, 2)}\n`);
    else {
      const width = Math.max(...outcome.tables.map((t) => t.table.length));
      out.write(`copied ${answer.from} → ${answer.to}\n${outcome.tables.map((t) => `  ${t.table.padEnd(width)}  ${t.rows}`).join('\n')}\nevery row count matches; ${verified.checked} secrets decrypt on the target\n`);
      out.write(noSwitch ? 'databaseUrl unchanged (--no-switch)\n' : `databaseUrl ${to ? 'set' : 'unset'}: ${switched}\n`);
    }
    return 0;
  } finally {
    await Promise.all(opened.map((db) => db.close().catch(() => undefined)));
    await lock.release();
  }
}
