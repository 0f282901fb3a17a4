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
      // Read from the catalogs before the TRUNCATE's locks are held (see storedColumns). Generated
      // columns (knowledge's search vector) are left out: the target computes them and refuses a value.
      const stored = new Map<string, string>();
      for (const table of tables) stored.set(table, (await storedColumns(to, table)).map(ident).join(', '));
      const sequences = await serialColumns(to);
      await to.query(`TRUNCATE ${targetTables.map(ident).join(', ')} CASCADE`);
      for (const table of tables) {
        say(`copying ${table} (${expected[table]} rows)`);
        const columns = stored.get(table)!;
        // One scan of the table, fetched a batch at a time: a batch found by OFFSET (or by ctid,
        // which the planner sorts) reads every row after it again, and a million call records
        // took hours.
        await from.query(`DECLARE copy_rows NO SCROLL CURSOR FOR SELECT row_to_json(r)::text AS j FROM ${ident(table)} r`);
        for (;;) {
          const { rows } = await from.query<{ j: string }>(`FETCH ${BATCH} FROM copy_rows`);
          if (rows.length === 0) break;
          const batch = `[${rows.map((r) => r.j).join(',')}]`;
          await to.query(`INSERT INTO ${ident(table)} (${columns}) OVERRIDING SYSTEM VALUE SELECT ${columns} FROM json_populate_recordset(NULL::${ident(table)}, $1::json)`, [batch]);
        }
        await from.query('CLOSE copy_rows');
      }
      await continueSequences(from, to, sequences);
      const copied = await rowCounts(to, tables);
      const wrong = tables.filter((t) => copied[t] !== expected[t]);
      if (wrong.length > 0) throw new SupervisorError('integrity', `row counts differ after the copy (${wrong.map((t) => `${t}: ${expected[t]} → ${copied[t]}`).join(', ')}); nothing was written`);
      return { tables: tables.map((table) => ({ table, rows: copied[table]! })) };
    });
  });
}

/**
 * The columns of `table` that take a value: all but the generated ones. From pg_catalog, not
 * information_schema: its views call pg_get_expr, which locks every table of every schema they
 * pass, and two copies at once on one server (each holding its own tables) deadlocked on it.
 */
async function storedColumns(q: Queryable, table: string): Promise<string[]> {
  const { rows } = await q.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' ORDER BY a.attnum`,
    [table],
  );
  return rows.map((r) => r.name);
}

interface SerialColumn {
  table: string;
  column: string;
  /** The sequence, schema-qualified and quoted as PostgreSQL writes it. */
  sequence: string;
}

/** The columns of the current schema that take their values from a sequence they own (serial, identity); pg_catalog only, as storedColumns. */
async function serialColumns(q: Queryable): Promise<SerialColumn[]> {
  const { rows } = await q.query<SerialColumn>(
    `SELECT t.relname AS "table", a.attname AS "column", quote_ident(n.nspname) || '.' || quote_ident(s.relname) AS sequence
       FROM pg_class s JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       JOIN pg_class t ON t.oid = d.refobjid JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
       JOIN pg_namespace n ON n.oid = s.relnamespace
      WHERE s.relkind = 'S' AND n.nspname = current_schema()`,
  );
  return rows;
}

/**
 * Serial columns continue where the source's sequences were, or after the highest copied id when
 * that is higher: ids deleted before the copy are not handed out again (a knowledge note's docId
 * someone kept must not come to name another note).
 */
async function continueSequences(from: Queryable, to: Queryable, sequences: SerialColumn[]): Promise<void> {
  const bySource = new Map((await serialColumns(from)).map((s) => [`${s.table}.${s.column}`, s.sequence]));
  for (const { table, column, sequence } of sequences) {
    const source = bySource.get(`${table}.${column}`);
    const used = source ? await lastUsed(from, source) : 0;
    await to.query(
      `SELECT setval($1::regclass, GREATEST(COALESCE((SELECT max(${ident(column)}) FROM ${ident(table)}), 1), $2::bigint), (SELECT max(${ident(column)}) FROM ${ident(table)}) IS NOT NULL OR $2::bigint > 0)`,
      [sequence, used],
    );
  }
}

/** The last value a sequence handed out; 0 when it has handed out none. */
async function lastUsed(q: Queryable, sequence: string): Promise<number> {
  const { rows } = await q.query<{ last_value: string; is_called: boolean }>(`SELECT last_value, is_called FROM ${sequence}`);
  return rows[0]?.is_called ? Number(rows[0].last_value) : 0;
}
