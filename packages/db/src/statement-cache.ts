import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely';

/** Distinct SQL texts kept prepared; texts built per call (long `in (...)` lists) fall out first. */
const CAPACITY = 512;

/** A row as better-sqlite3 returns it in raw mode: its columns' values in order. */
type RawRow = unknown[];

/**
 * A function that turns a raw row into the object better-sqlite3 would have
 * made of it, as one object literal of the statement's column names: every
 * row of a statement gets the same shape at once. better-sqlite3 makes each
 * row's object property by property from C++ (a map transition and an
 * internalized key each): 190 µs for a page of 50 messages, against 95 made
 * this way, and the page's JSON is written faster too (docs/benchmarks.md).
 * Undefined when a literal would not give the same object: a column named
 * `__proto__` (a literal would set the prototype instead).
 */
export function rowMaker(columns: readonly string[]): ((row: RawRow) => Record<string, unknown>) | undefined {
  if (columns.includes('__proto__')) return undefined;
  // Keys as JSON strings (any column name is a valid one); a repeated name keeps its last
  // value, as better-sqlite3's objects do.
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: row[${i}]`).join(', ');
  return new Function('row', `return { ${fields} };`) as (row: RawRow) => Record<string, unknown>;
}

/** A reader statement for Kysely whose rows are made by `rowMaker`, or the statement itself where it cannot be. */
function fastRows(statement: Statement): SqliteStatement {
  if (!statement.reader) return statement as unknown as SqliteStatement;
  let columns = statement.columns().map((column) => column.name);
  const first = rowMaker(columns);
  if (!first) return statement as unknown as SqliteStatement;
  let make = first;
  const raw = statement.raw(true);
  /**
   * SQLite prepares a statement again by itself when the schema changed (a migration from
   * another process): a `select *` may then return other columns than it did.
   */
  const fit = (row: RawRow | undefined) => {
    if (row === undefined || row.length === columns.length) return;
    columns = statement.columns().map((column) => column.name);
    make = rowMaker(columns) ?? ((values) => Object.fromEntries(columns.map((name, i) => [name, values[i]])));
  };
  return {
    reader: true,
    // Kysely hands the parameters as one array, which better-sqlite3 binds as the positional ones.
    all: (parameters) => {
      const rows = raw.all(parameters as unknown[]) as RawRow[];
      fit(rows[0]);
      return rows.map(make);
    },
    run: (parameters) => raw.run(parameters as unknown[]),
    *iterate(parameters) {
      for (const row of raw.iterate(parameters as unknown[]) as IterableIterator<RawRow>) {
        fit(row);
        yield make(row);
      }
    },
  };
}

/**
 * Hands Kysely the same prepared statement for the same SQL text. Preparing
 * (parsing and planning) costs more than running most of our queries, and
 * Kysely prepares on every execution. Kysely runs one query at a time per
 * connection, so a cached statement is never in use twice at once.
 */
export function withStatementCache(db: SqliteDatabase): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      db.close();
    },
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        // Keep recently used texts at the end; the oldest is dropped first.
        statements.delete(sql);
      } else {
        statement = fastRows(db.prepare(sql));
        if (statements.size >= CAPACITY) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
