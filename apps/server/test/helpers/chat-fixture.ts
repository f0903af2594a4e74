import type { Dialect } from '@pneumatic/db';
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../src/config.ts';
import { Rest, type TestUser } from './rest.ts';
import { startServer, type TestServer } from './server.ts';

export interface ChatFixture {
  t: TestServer;
  api: Rest;
  alice: TestUser;
  bob: TestUser;
  /** Belongs to no conversation of alice's or bob's. */
  mallory: TestUser;
  /** The 1-on-1 of alice and bob. */
  chat: string;
}

/**
 * A server over a fresh database with alice and bob in a 1-on-1 and mallory
 * outside it, for the describe block it is called in. Read the fields inside
 * tests (they are set in beforeAll).
 */
export function useChatFixture(dialect: Dialect, overrides: Partial<Config> = {}): ChatFixture {
  const fixture = {} as ChatFixture;
  beforeAll(async () => {
    fixture.t = await startServer(dialect, overrides);
    fixture.api = new Rest(fixture.t.url);
    fixture.alice = await fixture.api.user('alice');
    fixture.bob = await fixture.api.user('bob');
    fixture.mallory = await fixture.api.user('mallory');
    fixture.chat = await fixture.api.conversation(fixture.alice.token, [fixture.bob.id]);
  });
  afterAll(() => fixture.t.close());
  return fixture;
}
