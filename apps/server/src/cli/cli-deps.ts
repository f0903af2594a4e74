import { type ApiDeps, ConnectionHub, followLogOf, InProcessEventBus, TokenService } from '@pneumatic/api';
import { createDatabase, type DatabaseHandle, migrateToLatest } from '@pneumatic/db';
import type { Config } from '../config.ts';

/**
 * What the API services need, for a command that works on the database
 * without serving: nobody listens to its events (a running server catches up
 * from the database).
 */
export async function withCliDeps<T>(config: Config, fn: (deps: ApiDeps) => Promise<T>): Promise<T> {
  const database: DatabaseHandle = createDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database.db);
    const bus = new InProcessEventBus();
    const hub = new ConnectionHub(bus, await followLogOf(database.db));
    const deps: ApiDeps = {
      database,
      tokens: new TokenService({
        secret: config.secretKey,
        accessTtlSeconds: config.accessTtlSeconds,
        refreshTtlSeconds: config.refreshTtlSeconds,
      }),
      bus,
      hub,
      settings: {
        passwordMinLength: config.passwordMinLength,
        replayLimit: config.replayLimit,
        tracing: false,
      },
      observer: {},
    };
    try {
      return await fn(deps);
    } finally {
      hub.close();
    }
  } finally {
    await database.close();
  }
}
