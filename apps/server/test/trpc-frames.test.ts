import { serializedOnce } from '@pneumatic/api';
import { describe, expect, it } from 'vitest';
import { dataFrame, trackedFrame } from '../src/trpc-socket.ts';

const event = {
  type: 'message',
  message: { id: 'a', content: 'quote " backslash \\ line\n emoji 🎉', seq: 1 },
};

describe("the tRPC socket's event frames", () => {
  it('are what tRPC writes for a tracked event: JSON.stringify of the same message', () => {
    for (const [subscription, jsonrpc] of [
      [1, undefined],
      ['sub-7', '2.0'],
      [0, '2.0'],
    ] as const) {
      expect(trackedFrame(subscription, jsonrpc, '42', event).text).toBe(
        JSON.stringify({
          id: subscription,
          jsonrpc,
          result: { type: 'data', data: { id: '42', data: event }, id: '42' },
        }),
      );
    }
  });

  it('serialize an event once for all its subscribers, each frame with its own ids', () => {
    const shared = { type: 'typing', user_id: 'u' };
    const first = trackedFrame(1, undefined, '1', shared);
    // The object is never changed after it is sent; if it were, the cached text shows it was not read again.
    shared.user_id = 'changed';
    expect(trackedFrame(1, undefined, '1', shared)).toBe(first);
    expect(JSON.parse(trackedFrame('1', undefined, '2', shared).text)).toEqual({
      id: '1',
      result: { type: 'data', data: { id: '2', data: { type: 'typing', user_id: 'u' } }, id: '2' },
    });
  });

  it("answer a send with what tRPC writes, around the message's JSON that its event's frame is made of", () => {
    const message = { id: 'm', content: 'quote " emoji 🎉', seq: 2, reply_to: null };
    const event = { type: 'message', message };
    for (const [id, jsonrpc] of [
      [7, undefined],
      ['x', '2.0'],
    ] as const) {
      expect(dataFrame(id, jsonrpc, serializedOnce(message)).text).toBe(
        JSON.stringify({ id, jsonrpc, result: { type: 'data', data: message } }),
      );
    }
    expect(serializedOnce(event)).toBe(JSON.stringify(event));
    expect(serializedOnce(event)).toContain(serializedOnce(message));
    // Anything else of type 'message' is serialized as it is.
    const other = { type: 'message', message, extra: 1 };
    expect(serializedOnce(other)).toBe(JSON.stringify(other));
    const dated = { type: 'message', message: new Date(0) };
    expect(serializedOnce(dated)).toBe(JSON.stringify(dated));
  });

  it('keep what they made on the event where nothing else sees it: not JSON, keys, spreads nor clones', () => {
    const message = { id: 'k', content: 'kept', seq: 3 };
    const event = { type: 'message', message };
    const frame = trackedFrame(1, undefined, '3', event);
    expect(Object.keys(event)).toEqual(['type', 'message']);
    expect(Object.keys(message)).toEqual(['id', 'content', 'seq']);
    expect(JSON.stringify(event)).toBe('{"type":"message","message":{"id":"k","content":"kept","seq":3}}');
    expect(structuredClone(event)).toEqual(event);
    // A copy is a new object: serialized from what it holds, not from what its original kept.
    const edited = { ...message, content: 'edited' };
    expect(serializedOnce(edited)).toBe(JSON.stringify(edited));
    expect(trackedFrame(1, undefined, '3', { ...event, message: edited }).text).not.toBe(frame.text);
    // A frozen event keeps nothing and is serialized each time, the same.
    const frozen = Object.freeze({ type: 'typing', user_id: 'f' });
    expect(serializedOnce(frozen)).toBe(JSON.stringify(frozen));
    expect(trackedFrame(2, '2.0', '4', frozen).text).toBe(trackedFrame(2, '2.0', '4', frozen).text);
  });
});
