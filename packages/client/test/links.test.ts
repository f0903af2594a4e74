import { createTRPCClient, TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import { describe, expect, it, vi } from 'vitest';
import { isUnauthorized } from '../src/errors.ts';
import { accessTokenLink } from '../src/links.ts';
import { Session, type TokenPair } from '../src/session.ts';
import type { PneumaticRouter } from '../src/types.ts';
import { fakePair } from './support/tokens.ts';

const USER = '00000000-0000-4000-8000-0000000000a1';
const NOW = Date.parse('2026-11-27T12:00:00Z');

function unauthorized(message = 'Token expired') {
  return TRPCClientError.from({
    error: { message, code: -32001, data: { code: 'UNAUTHORIZED', httpStatus: 401, path: 'x' } },
  });
}

/**
 * Stands in for the server at the end of the link chain: answers with the
 * user when the op carries an accepted token, UNAUTHORIZED otherwise.
 */
function fakeServer(accepted: () => string | null) {
  const seen: { path: string; token: unknown }[] = [];
  const link: TRPCLink<PneumaticRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        const token = op.context.accessToken;
        seen.push({ path: op.path, token });
        if (op.path !== 'auth.login' && token !== accepted()) {
          observer.error(unauthorized());
        } else {
          observer.next({ result: { type: 'data', data: { id: USER, username: 'alice', full_name: null } } });
          observer.complete();
        }
        return () => {};
      });
  return { link, seen };
}

function setup() {
  let current: TokenPair = fakePair(USER, NOW, 1800, 'a');
  const storage = {
    value: current as TokenPair | null,
    read() {
      return this.value;
    },
    write(pair: TokenPair | null) {
      this.value = pair;
    },
  };
  let n = 0;
  const refresh = vi.fn(async () => {
    current = fakePair(USER, NOW, 1800, `rotated-${++n}`);
    return current;
  });
  const session = new Session({
    storage,
    refresh,
    isRejected: isUnauthorized,
    now: () => NOW,
    autoRefresh: false,
  });
  const server = fakeServer(() => current.access_token);
  const client = createTRPCClient<PneumaticRouter>({ links: [accessTokenLink(session), server.link] });
  return {
    session,
    refresh,
    server,
    client,
    storage,
    revoke: () => (current = fakePair(USER, NOW, 1800, 'server-side')),
  };
}

describe('accessTokenLink', () => {
  it('sends the current access token with each call', async () => {
    const { client, server, storage } = setup();
    await expect(client.auth.me.query()).resolves.toMatchObject({ username: 'alice' });
    expect(server.seen).toEqual([{ path: 'auth.me', token: storage.value?.access_token }]);
  });

  it('on UNAUTHORIZED refreshes once and retries with the new token', async () => {
    const { client, server, refresh, revoke, storage } = setup();
    const stale = storage.value!.access_token;
    revoke();
    await expect(client.auth.me.query()).resolves.toMatchObject({ username: 'alice' });
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(server.seen.map((s) => s.token)).toEqual([stale, storage.value?.access_token]);
  });

  it('refreshes once for many calls refused together', async () => {
    const { client, refresh, revoke } = setup();
    revoke();
    const results = await Promise.all([
      client.auth.me.query(),
      client.users.list.query(),
      client.auth.me.query(),
    ]);
    expect(results).toHaveLength(3);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('retries only once, then passes the error on', async () => {
    const { session, refresh } = setup();
    const refusingServer = fakeServer(() => 'no token is accepted');
    const client = createTRPCClient<PneumaticRouter>({
      links: [accessTokenLink(session), refusingServer.link],
    });
    const error = await client.auth.me.query().catch((e: unknown) => e);
    expect(isUnauthorized(error)).toBe(true);
    expect(refusingServer.seen).toHaveLength(2);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('leaves the public auth procedures alone: their UNAUTHORIZED is an answer', async () => {
    const { session, refresh } = setup();
    const link: TRPCLink<PneumaticRouter> = () => () =>
      observable((observer) => {
        observer.error(unauthorized('Incorrect username or password'));
        return () => {};
      });
    const client = createTRPCClient<PneumaticRouter>({ links: [accessTokenLink(session), link] });
    const error = await client.auth.login.mutate({ username: 'a', password: 'b' }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('Incorrect username or password');
    expect(refresh).not.toHaveBeenCalled();
  });
});
