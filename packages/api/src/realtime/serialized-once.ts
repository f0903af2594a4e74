/**
 * Values made once per object (an event's JSON, its frame) are kept on the
 * object itself, under a symbol and not enumerable: JSON, spreads,
 * Object.keys and structured clones skip them, and they go when the object
 * does. WeakMaps did this before, four entries a message: V8 traces a
 * WeakMap's entries (ephemerons) apart from other objects, again and again
 * until nothing changes, and the events that had reached the old generation
 * kept their entries until a full collection, which then took longer the
 * more of them there were.
 */
export function keptOn<T>(object: object, key: symbol): T | undefined {
  return (object as Record<symbol, T | undefined>)[key];
}

/** Keeps `value` on `object` under `key` (see keptOn); a frozen object keeps nothing, and it is made again. */
export function keep<T>(object: object, key: symbol, value: T): T {
  if (Object.isExtensible(object)) Object.defineProperty(object, key, { value, writable: true });
  return value;
}

const JSON_OF = Symbol('json');

/**
 * The JSON of an event that goes to many sockets, made once for all of them.
 * The object must never change after its first serialization.
 *
 * A message event (`{ type: 'message', message }`, the stream's shape) is
 * written around its message's own JSON, made once as well: tRPC's answer to
 * the send (that same message) reuses it instead of serializing it again.
 */
export function serializedOnce(event: object): string {
  return (
    keptOn<string>(event, JSON_OF) ??
    keep(
      event,
      JSON_OF,
      isMessageEvent(event)
        ? `{"type":"message","message":${serializedOnce(event.message)}}`
        : JSON.stringify(event),
    )
  );
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
