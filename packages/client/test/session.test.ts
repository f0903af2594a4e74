import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Lock, Session, SessionEndedError, type TokenPair, type TokenStorage } from '../src/session.ts';
import { fakePair } from './support/tokens.ts';

const USER = '7d6f2a8e-0000-4000-8000-000000000001';
const T0 = Date.parse('2026-11-27T12:00:00Z');

class Rejected extends Error {}

/** Storage shared by "tabs" in one test, as localStorage is. */
function memoryStorage(
  initial: TokenPair | null,
): TokenStorage & { value: TokenPair | null; writes: number } {
  return {
    value: initial,
    writes: 0,
    read() {
      return this.value;
    },
    write(pair) {
      this.value = pair;
      this.writes++;
    },
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One lock for several sessions, as Web Locks is for several tabs. */
function sharedLock(): Lock {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>) => {
    const run = tail.then(task, task);
    tail = run.catch(() => {});
    return run;
  };
}

interface Setup {
  pair?: TokenPair | null;
  storage?: ReturnType<typeof memoryStorage>;
  refresh?: (refreshToken: string) => Promise<TokenPair>;
  lock?: Lock;
  clock?: { now: number };
  autoRefresh?: boolean;
}

function createSession(setup: Setup = {}) {
  const clock = setup.clock ?? { now: T0 };
  const storage =
    setup.storage ?? memoryStorage(setup.pair === undefined ? fakePair(USER, T0, 1800, 'a') : setup.pair);
  const refresh = vi.fn(setup.refresh ?? (async () => fakePair(USER, clock.now, 1800, 'b')));
  const session = new Session({
    storage,
    refresh,
    isRejected: (error) => error instanceof Rejected,
    now: () => clock.now,
    lock: setup.lock,
    autoRefresh: setup.autoRefresh ?? false,
  });
  return { session, storage, refresh, clock };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Session.accessToken', () => {
  it('returns the stored token while it is not about to expire, without refreshing', async () => {
    const { session, refresh, storage } = createSession();
    expect(await session.accessToken()).toBe(storage.value?.access_token);
    expect(refresh).not.toHaveBeenCalled();
  });

  it('refreshes within a minute of expiry and stores both rotated tokens', async () => {
    const { session, refresh, storage, clock } = createSession();
    const first = storage.value!;
    clock.now = T0 + 1800_000 - 30_000;
    const token = await session.accessToken();
    expect(refresh).toHaveBeenCalledExactlyOnceWith(first.refresh_token);
    expect(token).not.toBe(first.access_token);
    expect(storage.value?.access_token).toBe(token);
    expect(storage.value?.refresh_token).not.toBe(first.refresh_token);
    expect(session.tokens).toEqual(storage.value);
  });

  it('shares one refresh among concurrent callers: the retired refresh token is never sent twice', async () => {
    const pending = deferred<TokenPair>();
    const { session, refresh, clock } = createSession({ refresh: () => pending.promise });
    clock.now = T0 + 1800_000 + 5_000;
    const callers = [session.accessToken(), session.accessToken(), session.refresh(), session.accessToken()];
    await Promise.resolve();
    const rotated = fakePair(USER, clock.now, 1800, 'rotated');
    pending.resolve(rotated);
    expect(await Promise.all(callers)).toEqual(Array(4).fill(rotated.access_token));
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('uses the rotated refresh token for the next refresh', async () => {
    let n = 0;
    const { session, refresh, clock } = createSession({
      refresh: async () => fakePair(USER, T0, 1800, `r${++n}`),
    });
    await session.refresh();
    const second = session.tokens!.refresh_token;
    await session.refresh();
    expect(refresh.mock.calls[1]?.[0]).toBe(second);
    expect(clock.now).toBe(T0);
  });

  it('keeps an unexpired token when the refresh cannot reach the server', async () => {
    const { session, storage, clock } = createSession({
      refresh: async () => {
        throw new TypeError('Failed to fetch');
      },
    });
    const before = storage.value!;
    clock.now = T0 + 1800_000 - 10_000;
    expect(await session.accessToken()).toBe(before.access_token);
    expect(storage.value).toEqual(before);
    clock.now = T0 + 1800_000 + 1;
    await expect(session.accessToken()).rejects.toThrow('Failed to fetch');
    expect(session.getUserId()).toBe(USER);
  });
});

describe('Session.refresh when the server refuses', () => {
  it('reports the end of the login once, and not for a sign-out', async () => {
    const onEnded = vi.fn();
    const storage = memoryStorage(fakePair(USER, T0, 1800, 'a'));
    const session = new Session({
      storage,
      refresh: async () => {
        throw new Rejected('UNAUTHORIZED');
      },
      isRejected: (error) => error instanceof Rejected,
      onEnded,
      autoRefresh: false,
    });
    const refreshes = [session.refresh(), session.refresh()];
    for (const refreshing of refreshes) await expect(refreshing).rejects.toBeInstanceOf(SessionEndedError);
    expect(onEnded).toHaveBeenCalledExactlyOnceWith(expect.any(SessionEndedError));
    expect(onEnded.mock.calls[0]?.[0].cause).toBeInstanceOf(Rejected);

    session.signIn(fakePair(USER, T0, 1800, 'b'));
    session.signOut();
    expect(onEnded).toHaveBeenCalledTimes(1);
  });

  it('keeps only the two tokens of a login answer', () => {
    const { session, storage } = createSession({ pair: null });
    session.signIn({ ...fakePair(USER, T0, 1800, 'x'), token_type: 'bearer', expires_in: 1800 } as TokenPair);
    expect(Object.keys(storage.value ?? {}).sort()).toEqual(['access_token', 'refresh_token']);
  });

  it('signs out, clears storage and tells listeners', async () => {
    const { session, storage } = createSession({
      refresh: async () => {
        throw new Rejected('UNAUTHORIZED');
      },
    });
    const listener = vi.fn();
    session.subscribe(listener);
    await expect(session.refresh()).rejects.toBeInstanceOf(SessionEndedError);
    expect(storage.value).toBeNull();
    expect(session.getUserId()).toBeNull();
    expect(listener).toHaveBeenCalledTimes(1);
    expect(await session.accessToken()).toBeNull();
  });
});

describe('Session.accessTokenAfterRejection', () => {
  it('refreshes when the refused token is the current one, even far from expiry', async () => {
    const { session, refresh, storage } = createSession();
    const refused = storage.value!.access_token;
    const fresh = await session.accessTokenAfterRejection(refused);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(fresh).not.toBe(refused);
    // The refused token is not handed out again, and the fresh one is used without another refresh.
    expect(await session.accessToken()).toBe(fresh);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('returns the newer token without refreshing when another call already did', async () => {
    const { session, refresh, storage } = createSession();
    const old = storage.value!.access_token;
    const newer = await session.refresh();
    expect(await session.accessTokenAfterRejection(old)).toBe(newer);
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});

describe('Session across tabs', () => {
  it('adopts the pair another tab rotated while this one waited for the lock', async () => {
    const storage = memoryStorage(fakePair(USER, T0, 1800, 'a'));
    const lock = sharedLock();
    const tabA = createSession({ storage, lock });
    const tabB = createSession({ storage, lock });
    const [a, b] = await Promise.all([tabA.session.refresh(), tabB.session.refresh()]);
    expect(tabA.refresh.mock.calls.length + tabB.refresh.mock.calls.length).toBe(1);
    expect(a).toBe(b);
    expect(tabA.session.tokens).toEqual(storage.value);
    expect(tabB.session.tokens).toEqual(storage.value);
  });

  it('ends the session when another tab signed out', async () => {
    const storage = memoryStorage(fakePair(USER, T0, 1800, 'a'));
    const { session, refresh } = createSession({ storage });
    storage.value = null;
    await expect(session.refresh()).rejects.toBeInstanceOf(SessionEndedError);
    expect(refresh).not.toHaveBeenCalled();
    expect(session.getUserId()).toBeNull();
  });
});

describe('Session sign-in and sign-out', () => {
  it('drops a refresh that finishes after sign-out instead of signing back in', async () => {
    const pending = deferred<TokenPair>();
    const { session, storage } = createSession({ refresh: () => pending.promise });
    const refreshing = session.refresh();
    await Promise.resolve();
    session.signOut();
    pending.resolve(fakePair(USER, T0, 1800, 'late'));
    await expect(refreshing).rejects.toBeInstanceOf(SessionEndedError);
    expect(storage.value).toBeNull();
    expect(session.tokens).toBeNull();
  });

  it('reports the user id from the access token', () => {
    const { session } = createSession({ pair: null });
    expect(session.getUserId()).toBeNull();
    session.signIn(fakePair(USER, T0, 1800, 'x'));
    expect(session.getUserId()).toBe(USER);
  });
});

describe('Session background refresh', () => {
  it('refreshes shortly before expiry without being asked, then again for the new token', async () => {
    vi.useFakeTimers({ now: T0 });
    const clock = {
      get now() {
        return Date.now();
      },
    };
    let n = 0;
    const { session, refresh } = createSession({
      clock,
      autoRefresh: true,
      refresh: async () => fakePair(USER, Date.now(), 1800, `bg${++n}`),
    });
    await vi.advanceTimersByTimeAsync(1800_000 - 61_000);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(refresh).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1800_000);
    expect(refresh).toHaveBeenCalledTimes(2);
    session.dispose();
  });

  it('refreshes short-lived tokens at half their lifetime', async () => {
    vi.useFakeTimers({ now: T0 });
    const { session, refresh } = createSession({
      clock: {
        get now() {
          return Date.now();
        },
      },
      pair: fakePair(USER, T0, 20, 'short'),
      autoRefresh: true,
    });
    await vi.advanceTimersByTimeAsync(9_000);
    expect(refresh).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(refresh).toHaveBeenCalledTimes(1);
    session.dispose();
  });
});
