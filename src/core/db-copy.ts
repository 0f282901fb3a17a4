import type { Db, Queryable } from './db.js';
import { openPglite } from './db-pglite.js';
import { conflict, SupervisorError } from './errors.js';

/** Tables the migrator keeps for itself: the target's own migration run fills them. */
const MIGRATION_TABLES = new Set(['schema_migrations', 'domain_migrations']);
/**
 * Rows per statement. The copy is not exempt from the statement time limit (it fails as a whole,
 * writing nothing, and can be run again): every statement is one batch or one count, seconds at
 * most for the tables a supervisor keeps, and a silent database fails the copy instead of hanging it.
 */
const BATCH = 500;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The tables of the current schema, parents before the tables whose foreign keys point at them. */
export async function userTables(q: Queryable): Promise<string[]> {
  const { rows: tables } = await q.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  const { rows: edges } = await q.query<{ child: string; parent: string }>(
    `SELECT cl.relname AS child, pr.relname AS parent FROM pg_constraint co
       JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_class pr ON pr.oid = co.confrelid
       JOIN pg_namespace n ON n.oid = cl.relnamespace
      WHERE co.contype = 'f' AND n.nspname = current_schema()`,
  );
  const names = tables.map((t) => t.name).filter((n) => !MIGRATION_TABLES.has(n));
  const ordered: string[] = [];
  const visit = (name: string, path: Set<string>) => {
    if (ordered.includes(name) || path.has(name)) return;
    path.add(name);
    for (const e of edges) if (e.child === name && e.parent !== name) visit(e.parent, path);
    ordered.push(name);
  };
  for (const name of names) visit(name, new Set());
  return ordered.filter((n) => names.includes(n));
}

export async function rowCounts(q: Queryable, tables: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) counts[table] = (await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${ident(table)}`)).rows[0]!.n;
  return counts;
}

export interface CopyOutcome {
  tables: Array<{ table: string; rows: number }>;
}

/** Row counts of a database that only its migrations wrote (a fresh in-memory one). */
async function seededCounts(migrate: (db: Db) => Promise<void>): Promise<Record<string, number>> {
  const fresh = await openPglite();
  try {
    await migrate(fresh);
    return await rowCounts(fresh, await userTables(fresh));
  } finally {
    await fresh.close();
  }
}

/**
 * Copies every table of `source` into `target` in one consistent snapshot (a
 * repeatable-read transaction on the source, one transaction on the target that
 * commits only when every table's row count matches). Rows travel as JSON and are
 * read back by PostgreSQL's own input functions, so every column type (bytea,
 * ranges, arrays, jsonb) arrives as it left. The target is migrated first; it must
 * hold no rows unless `force`, which replaces them.
 */
export async function copyDatabase(source: Db, target: Db, options: { force: boolean; migrate(db: Db): Promise<void>; progress?(line: string): void }): Promise<CopyOutcome> {
  const say = options.progress ?? (() => undefined);
  const existing = await userTables(target);
  let filled = Object.entries(await rowCounts(target, existing)).filter(([, n]) => n > 0);
  if (filled.length > 0 && !options.force) {
    // Rows the migrations write themselves (the price tables) are no one's data: a target an earlier,
    // interrupted copy migrated holds them, and copying again must not need --force.
    const seeded = await seededCounts(options.migrate);
    filled = filled.filter(([table, n]) => seeded[table] !== n);
  }
  if (filled.length > 0 && !options.force) {
    throw conflict(`the target database is not empty (${filled.map(([t, n]) => `${t}: ${n}`).join(', ')}); copy into an empty database, or add --force to replace what it holds`, { tables: Object.fromEntries(filled) });
  }
  await options.migrate(source);
  await options.migrate(target);
  const tables = await userTables(source);
  const targetTables = await userTables(target);
  const missing = tables.filter((t) => !targetTables.includes(t));
  if (missing.length > 0) throw new SupervisorError('integrity', `the target has no table ${missing.join(', ')} after its migrations; are both on the same version of the supervisor?`);

  return source.transaction(async (from) => {
    await from.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    const expected = await rowCounts(from, tables);
    return target.transaction(async (to) => {
      await to.query(`TRUNCATE ${targetTables.map(ident).join(', ')} CASCADE`);
      for (const table of tables) {
        say(`copying ${table} (${expected[table]} rows)`);
        // One scan of the table, fetched a batch at a time: a batch found by OFFSET (or by ctid,
        // which the planner sorts) reads every row after it again, and a million call records
        // took hours.
        await from.query(`DECLARE copy_rows NO SCROLL CURSOR FOR SELECT row_to_json(r)::text AS j FROM ${ident(table)} r`);
        for (;;) {
          const { rows } = await from.query<{ j: string }>(`FETCH ${BATCH} FROM copy_rows`);
          if (rows.length === 0) break;
          const batch = `[${rows.map((r) => r.j).join(',')}]`;
          await to.query(`INSERT INTO ${ident(table)} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${ident(table)}, $1::json)`, [batch]);
        }
        await from.query('CLOSE copy_rows');
      }
      await resetSequences(to);
      const copied = await rowCounts(to, tables);
      const wrong = tables.filter((t) => copied[t] !== expected[t]);
      if (wrong.length > 0) throw new SupervisorError('integrity', `row counts differ after the copy (${wrong.map((t) => `${t}: ${expected[t]} → ${copied[t]}`).join(', ')}); nothing was written`);
      return { tables: tables.map((table) => ({ table, rows: copied[table]! })) };
    });
  });
}

/** Serial columns continue after the highest copied id. */
async function resetSequences(q: Queryable): Promise<void> {
  const { rows } = await q.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'`,
  );
  for (const { table_name: table, column_name: column } of rows) {
    await q.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${ident(column)}) FROM ${ident(table)}), 1), (SELECT max(${ident(column)}) FROM ${ident(table)}) IS NOT NULL)`,
      [ident(table), column],
    );
  }
}
