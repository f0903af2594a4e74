import { describe, expect, it } from 'vitest';
import { serializeEventsOnce } from '../src/trpc-encoder.ts';

const event = {
  type: 'message',
  message: { id: 'a', content: 'quote " backslash \\ line\n emoji 🎉', seq: 1 },
};
const frame = (subscription: number | string, jsonrpc?: '2.0') => ({
  id: subscription,
  ...(jsonrpc ? { jsonrpc } : {}),
  result: { type: 'data', data: { id: '42', data: event }, id: '42' },
});

describe('the tRPC socket encoder', () => {
  it('writes the same frames as JSON.stringify, for events and for everything else', () => {
    for (const message of [
      frame(1),
      frame('sub-7', '2.0'),
      { id: 3, result: { type: 'started' } },
      { id: 4, result: { type: 'data', data: { hello: 'query result' } } },
      { id: null, error: { code: -32600, message: 'bad' } },
      { id: 5, result: { type: 'data', data: { id: '9', data: null }, id: '9' } },
    ]) {
      expect(serializeEventsOnce.encode(message)).toBe(JSON.stringify(message));
    }
    expect(serializeEventsOnce.decode('{"id":1}')).toEqual({ id: 1 });
  });

  it('serializes an event object once for all its subscribers', () => {
    const shared = { type: 'typing', user_id: 'u' };
    const first = serializeEventsOnce.encode({
      id: 1,
      result: { type: 'data', data: { id: '1', data: shared }, id: '1' },
    });
    // The object is never changed after it is sent; if it were, the cached text shows it was not read again.
    shared.user_id = 'changed';
    const second = serializeEventsOnce.encode({
      id: 2,
      result: { type: 'data', data: { id: '1', data: shared }, id: '1' },
    });
    expect(JSON.parse(first as string).result.data.data.user_id).toBe('u');
    expect(JSON.parse(second as string)).toEqual({
      id: 2,
      result: { type: 'data', data: { id: '1', data: { type: 'typing', user_id: 'u' } }, id: '1' },
    });
  });
});
