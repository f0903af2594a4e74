import { serializedOnce } from '@pneumatic/api';
import { type Encoder, jsonEncoder } from '@trpc/server/adapters/ws';

interface TrackedDataMessage {
  id: string | number | null;
  jsonrpc?: '2.0';
  result: { type: 'data'; id: string; data: { id: string; data: object } };
}

function isTrackedData(message: unknown): message is TrackedDataMessage {
  const result = (message as { result?: { type?: unknown; id?: unknown; data?: unknown } } | null)?.result;
  if (result?.type !== 'data' || typeof result.id !== 'string') return false;
  const envelope = result.data as { id?: unknown; data?: unknown } | null;
  return (
    typeof envelope === 'object' &&
    envelope !== null &&
    typeof envelope.data === 'object' &&
    envelope.data !== null
  );
}

/**
 * tRPC's JSON encoder, except that a subscription event (a tracked event)
 * is serialized once however many subscribers it goes to: every subscriber
 * of one event yields the same object (see the events service), and each
 * frame is the cached JSON inside that subscriber's own envelope. The frame
 * is the JSON that JSON.stringify would give for the same message.
 */
export const serializeEventsOnce: Encoder = {
  encode(message) {
    if (!isTrackedData(message)) return jsonEncoder.encode(message);
    const { result } = message;
    const json = serializedOnce(result.data.data);
    const jsonrpc = message.jsonrpc === undefined ? '' : `"jsonrpc":${JSON.stringify(message.jsonrpc)},`;
    const id = JSON.stringify(result.id);
    return `{"id":${JSON.stringify(message.id)},${jsonrpc}"result":{"type":"data","data":{"id":${JSON.stringify(result.data.id)},"data":${json}},"id":${id}}}`;
  },
  decode: jsonEncoder.decode,
};
