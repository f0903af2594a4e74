/** JSON of objects already serialized. Entries go when the object does. */
const serialized = new WeakMap<object, string>();

/**
 * The JSON of an event that goes to many sockets, made once for all of them.
 * The object must never change after its first serialization.
 *
 * A message event (`{ type: 'message', message }`, the stream's shape) is
 * written around its message's own JSON, made once as well: tRPC's answer to
 * the send (that same message) reuses it instead of serializing it again.
 */
export function serializedOnce(event: object): string {
  let json = serialized.get(event);
  if (json === undefined) {
    json = isMessageEvent(event)
      ? `{"type":"message","message":${serializedOnce(event.message)}}`
      : JSON.stringify(event);
    serialized.set(event, json);
  }
  return json;
}

/** Exactly `{ type: 'message', message: object }`, keys in that order (so JSON.stringify would write the same). */
function isMessageEvent(event: object): event is { type: 'message'; message: object } {
  if ((event as { type?: unknown }).type !== 'message') return false;
  const keys = Object.keys(event);
  const { message } = event as { message?: unknown };
  return (
    keys.length === 2 &&
    keys[0] === 'type' &&
    keys[1] === 'message' &&
    typeof message === 'object' &&
    message !== null &&
    !Array.isArray(message) &&
    typeof (message as { toJSON?: unknown }).toJSON !== 'function'
  );
}
