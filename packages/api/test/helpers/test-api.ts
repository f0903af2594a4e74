import { randomBytes } from 'node:crypto';
import { type Dialect, migrateToLatest } from '@pneumatic/db';
import { openTestDatabase } from '@pneumatic/db/testing';
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
    settings: { passwordMinLength: 8, replayLimit: 1000, tracing: false, allowSignup: true },
    observer,
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
