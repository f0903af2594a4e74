import { randomBytes } from 'node:crypto';
import { type Dialect, databaseFileStore, migrateToLatest } from '@pneumatic/db';
import { openTestDatabase } from '@pneumatic/db/testing';
import { FileLinks } from '../../src/auth/file-links.ts';
import { TokenService } from '../../src/auth/tokens.ts';
import type { ApiDeps } from '../../src/deps.ts';
import { ConnectionHub } from '../../src/realtime/connection-hub.ts';
import { InProcessEventBus } from '../../src/realtime/event-bus.ts';
import { signup } from '../../src/services/auth.service.ts';
import { followLogOf } from '../../src/services/log-reader.ts';
import { MessageWriter } from '../../src/services/message-writer.ts';

export interface TestApi {
  /** Wired as a single server instance wires them: in-process bus, hub reading the real log. */
  deps: ApiDeps;
  /** Signs up a user (through the auth service) and returns their id. */
  signup(username: string): Promise<string>;
  close(): Promise<void>;
}

/** The services' dependencies over a fresh, migrated database of `dialect`. */
export async function openTestApi(dialect: Dialect): Promise<TestApi> {
  const database = await openTestDatabase(dialect);
  const { db } = database.handle;
  await migrateToLatest(db);
  const bus = new InProcessEventBus();
  const hub = new ConnectionHub(bus, await followLogOf(db));
  const observer = {};
  const deps: ApiDeps = {
    database: database.handle,
    tokens: new TokenService({
      secret: randomBytes(32).toString('hex'),
      accessTtlSeconds: 1800,
      refreshTtlSeconds: 604_800,
    }),
    bus,
    hub,
    writer: new MessageWriter({ database: database.handle, bus, observer }),
    settings: {
      passwordMinLength: 8,
      replayLimit: 1000,
      tracing: false,
      allowSignup: true,
      uploads: { maxBytes: 25 * 1024 * 1024, quotaBytesPerDay: 100 * 1024 * 1024, pendingTtlSeconds: 3600 },
    },
    observer,
    files: databaseFileStore(database.handle.db),
    fileLinks: new FileLinks(randomBytes(32).toString('hex')),
  };
  return {
    deps,
    signup: async (username) => (await signup(deps, { username, password: `${username}-password` })).id,
    async close() {
      await deps.writer.close();
      hub.close();
      await bus.close();
      await database.close();
    },
  };
}
