import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { type EventSource, streamEvents } from '../src/events.ts';
import { SessionEndedError } from '../src/session.ts';
import type { PneumaticApi, StreamEvent } from '../src/types.ts';

interface Callbacks {
  onStarted(): void;
  onData(event: { id: string; data: StreamEvent }): void;
  onError(error: unknown): void;
  onComplete(): void;
}

/** A stand-in for `api.events.stream`: records each subscribe, and lets the test drive the callbacks. */
function fakeStream() {
  const subscriptions: { input: { lastEventId: string | null }; callbacks: Callbacks; stopped: boolean }[] =
    [];
  const api = {
    events: {
      stream: {
        subscribe(input: { lastEventId: string | null }, callbacks: Callbacks) {
          const entry = { input, callbacks, stopped: false };
          subscriptions.push(entry);
          return {
            unsubscribe() {
              entry.stopped = true;
            },
          };
        },
      },
    },
  } as unknown as PneumaticApi;
  const latest = () => subscriptions.at(-1)!.callbacks;
  return { api, subscriptions, latest };
}

function source(api: PneumaticApi, user: { id: string | null }, closed = new AbortController()): EventSource {
  return { api, userId: () => user.id, closed: closed.signal, retryDelayMs: () => 1 };
}

const resync: StreamEvent = { type: 'resync' };

describe('streamEvents', () => {
  it('yields events with their ids, and resubscribes after an error from the last id', async () => {
    const stream = fakeStream();
    const events = streamEvents(source(stream.api, { id: 'u1' }), { lastEventId: '4' });
    const first = events.next();
    expect(stream.subscriptions[0]?.input).toEqual({ lastEventId: '4' });
    stream.latest().onData({ id: '5', data: resync });
    expect(await first).toEqual({ done: false, value: { type: 'resync', eventId: '5' } });

    const second = events.next();
    stream.latest().onError(TRPCClientError.from(new Error('socket trouble')));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(stream.subscriptions).toHaveLength(2);
    expect(stream.subscriptions[0]?.stopped).toBe(true);
    expect(stream.subscriptions[1]?.input).toEqual({ lastEventId: '5' });
    stream.latest().onData({ id: '6', data: resync });
    expect((await second).value).toEqual({ type: 'resync', eventId: '6' });
    await events.return();
    expect(stream.subscriptions[1]?.stopped).toBe(true);
  });

  it('throws an error that a resubscribe cannot fix', async () => {
    const stream = fakeStream();
    const events = streamEvents(source(stream.api, { id: 'u1' }));
    const next = events.next();
    const invalid = TRPCClientError.from({
      error: { message: 'Must be an event id', code: -32600, data: { code: 'BAD_REQUEST', httpStatus: 400 } },
    });
    stream.latest().onError(invalid);
    await expect(next).rejects.toBe(invalid);
  });

  it('ends quietly when the client closes, and throws SessionEndedError when the user changes', async () => {
    const stream = fakeStream();
    const closed = new AbortController();
    const ending = streamEvents(source(stream.api, { id: 'u1' }, closed));
    const pending = ending.next();
    closed.abort();
    expect(await pending).toEqual({ done: true, value: undefined });

    const user: { id: string | null } = { id: 'u1' };
    const switching = streamEvents(source(stream.api, user));
    const waiting = switching.next();
    user.id = 'u2';
    stream.latest().onComplete();
    await expect(waiting).rejects.toBeInstanceOf(SessionEndedError);
  });
});
