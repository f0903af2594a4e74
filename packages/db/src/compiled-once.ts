import { type Compilable, CompiledQuery } from 'kysely';
import type { Executor } from './create-database.ts';

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
 * not land as a parameter.
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
    return (await db.executeQuery<R>(CompiledQuery.raw(compiled.sql, values))).rows;
  };
}
