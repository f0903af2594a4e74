import {
  CompiledQuery,
  type DatabaseConnection,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely';

/**
 * Kysely's SQLite driver with transactions that take the write lock when
 * they begin. Every transaction on the main connection writes, and the
 * writer thread commits beside it: a deferred `begin` reads first on a
 * snapshot, and if the thread commits before the first write, that write
 * cannot upgrade the snapshot and fails at once (SQLITE_BUSY_SNAPSHOT; no
 * busy timeout applies), a 503 for an edit that collided with nothing but
 * a search-index batch. `begin immediate` waits for the lock up front, within
 * the busy timeout, and then nothing can commit under the transaction.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** The embedded database's dialect: Kysely's, with `ImmediateSqliteDriver`. */
export class EmbeddedSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): SqliteDriver {
    return new ImmediateSqliteDriver(this.#config);
  }
}
