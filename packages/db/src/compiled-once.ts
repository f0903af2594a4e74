import { type Compilable, CompiledQuery } from 'kysely';
import type { Executor } from './create-database.ts';

/**
 * Runs a compiled reading query on an executor's own connection at once,
 * without Kysely's driver (its connection lock, query id, log event and
 * result transform), or answers undefined where it must not (an open
 * transaction on the connection, a statement that writes): the caller then
 * goes through Kysely. Registered by createDatabase for an embedded SQLite
 * connection, whose statements run synchronously anyway.
 */
export type DirectReader = (sql: string, parameters: readonly unknown[]) => unknown[] | undefined;

const directReaders = new WeakMap<Executor, DirectReader>();

/** Lets `db`'s queries compiled once run through `reader` (see DirectReader). */
export function readDirectly(db: Executor, reader: DirectReader): void {
  directReaders.set(db, reader);
}

/**
 * On PostgreSQL a query compiled once also runs as a prepared statement,
 * parsed and planned once per connection instead of on every call (a history
 * page's query: 0.60 ms of PostgreSQL's time a call unprepared, 0.33
 * prepared). Its name, by SQL text; the pool's query function looks it up.
 */
const statementNames = new Map<string, string>();
let statementCount = 0;

function registerStatement(sql: string): void {
  if (!statementNames.has(sql)) statementNames.set(sql, `pneumatic_${++statementCount}`);
}

/** The name of a compiled-once query's prepared statement, or undefined for any other SQL text. */
export function preparedName(sql: string): string | undefined {
  return statementNames.get(sql);
}

/**
 * A new name for a statement PostgreSQL refused to run prepared ("cached plan
 * must not change result type": another instance's migration changed a table
 * under it): prepared again under that name on every connection.
 */
export function renamePrepared(sql: string, refused: string): string {
  if (statementNames.get(sql) === refused) statementNames.set(sql, `pneumatic_${++statementCount}`);
  return statementNames.get(sql)!;
}

/**
 * A statement written as PostgreSQL text that never changes, its values all
 * parameters (arrays bound as one each): prepared once per connection, as a
 * query compiled once is. For statements over a whole batch, whose values
 * are arrays (`unnest`, `jsonb_populate_recordset`): a text built per batch
 * (a condition or a row of parameters per message) is parsed and planned
 * again on every call, and grows with the batch.
 */
export function preparedText<R>(
  text: string,
): (db: Executor, parameters: readonly unknown[]) => Promise<R[]> {
  registerStatement(text);
  return async (db, parameters) => (await db.executeQuery<R>(CompiledQuery.raw(text, [...parameters]))).rows;
}

interface Compiled {
  sql: string;
  parameters: readonly unknown[];
  /** For each parameter of the SQL, which argument goes there (-1: the value compiled in). */
  slots: number[];
}

/**
 * A query with scalar arguments that Kysely builds and compiles once per
 * executor (the SQL text never changes), then runs with each call's values
 * bound in their places. For a short lookup, building and compiling the
 * query costs more than running it; the lookups behind every request use
 * this. An argument must be used as a plain value (`where(column, op,
 * value)`), not expanded into SQL (a list for `in`): it is placed by
 * identity; an array is refused, and compiling throws if an argument did
 * not land as a parameter. On an embedded SQLite connection the query runs
 * directly on its prepared statement (readDirectly): Kysely's driver was
 * most of the functions a socket's connect ran through, and connecting is
 * what a server process does before V8 has compiled anything. On PostgreSQL
 * it runs as a prepared statement (preparedName).
 */
export function compiledOnce<A extends unknown[], R>(
  build: (db: Executor, ...args: A) => Compilable<R>,
  arity: A['length'],
): (db: Executor, ...args: A) => Promise<R[]> {
  const byExecutor = new WeakMap<Executor, Compiled>();
  const compile = (db: Executor): Compiled => {
    const markers = Array.from({ length: arity }, () => Object.freeze({}));
    const query = build(db, ...(markers as A)).compile();
    const slots = query.parameters.map((value) => markers.indexOf(value as object));
    if (!markers.every((_, i) => slots.includes(i)))
      throw new Error('compiledOnce: an argument was not bound as a parameter');
    registerStatement(query.sql);
    return { sql: query.sql, parameters: query.parameters, slots };
  };
  return async (db, ...args) => {
    // An array would have been a list Kysely expands into SQL, which a compiled text cannot take.
    if (args.some((arg) => Array.isArray(arg)))
      throw new Error('compiledOnce: arguments must be single values');
    let compiled = byExecutor.get(db);
    if (!compiled) {
      compiled = compile(db);
      byExecutor.set(db, compiled);
    }
    const { slots } = compiled;
    const values = compiled.parameters.map((value, i) => (slots[i]! >= 0 ? args[slots[i]!] : value));
    const rows = directReaders.get(db)?.(compiled.sql, values);
    if (rows) return rows as R[];
    return (await db.executeQuery<R>(CompiledQuery.raw(compiled.sql, values))).rows;
  };
}
