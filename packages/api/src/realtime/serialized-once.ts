/** JSON of event objects already serialized. Entries go when the event object does. */
const serialized = new WeakMap<object, string>();

/**
 * The JSON of an event that goes to many sockets, made once for all of them.
 * The object must never change after its first serialization.
 */
export function serializedOnce(event: object): string {
  let json = serialized.get(event);
  if (json === undefined) {
    json = JSON.stringify(event);
    serialized.set(event, json);
  }
  return json;
}
