import type { Socket } from 'node:net';
import { keep, keptOn, serializedOnce } from '@pneumatic/api';
import { WebSocket } from 'ws';

/**
 * A text frame for many sockets: its JSON, and the whole WebSocket frame
 * (header and UTF-8 payload) in one buffer, made once. Every socket gets the
 * same bytes: no per-socket header, no per-socket UTF-8 encoding of the
 * text (a string handed to `writev` is encoded and copied for each socket),
 * one chunk per frame in the socket's next write.
 */
export class SharedFrame {
  readonly bytes: Buffer;
  constructor(readonly text: string) {
    const length = Buffer.byteLength(text);
    // RFC 6455 §5.2: FIN and opcode 1 (text), then the length in 7, 7+16 or 7+64 bits; a server never masks.
    const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
    const bytes = Buffer.allocUnsafe(header + length);
    bytes[0] = 0x81;
    if (header === 2) bytes[1] = length;
    else if (header === 4) {
      bytes[1] = 126;
      bytes.writeUInt16BE(length, 2);
    } else {
      bytes[1] = 127;
      bytes.writeBigUInt64BE(BigInt(length), 2);
    }
    bytes.write(text, header, 'utf8');
    this.bytes = bytes;
  }
}

const FRAME = Symbol('frame');

/**
 * The frame of an event that goes to many sockets (its JSON as is, shared
 * with tRPC's frames of it), made once for all of them. The object must
 * never change after its first frame.
 */
export function frameOnce(event: object): SharedFrame {
  return keptOn<SharedFrame>(event, FRAME) ?? keep(event, FRAME, new SharedFrame(serializedOnce(event)));
}

/** What of `ws`'s internals the direct write relies on (ws 8: the connection, its sender, its extensions). */
interface WsInternals {
  _socket: Socket | null;
  _sender: { _state: number; _queue: unknown[] } | null;
  _extensions: Record<string, unknown>;
}

/** Connections corked and not yet uncorked, in the order they were corked. */
const corked: Socket[] = [];

/**
 * How long one turn of the event loop may spend uncorking: on a loopback or
 * a virtual machine a write costs several µs, so a batch that reached every
 * socket of a large instance (thousands of writes) would hold the loop for
 * tens of ms, and every timer and read with it.
 */
export const FLUSH_SLICE_MS = 4;
/** The clock is read once per this many connections. */
const CONNECTIONS_PER_CLOCK_READ = 16;

/**
 * Uncorks the connections in the order they were corked, for FLUSH_SLICE_MS
 * at most; what remains goes in the next turn, after the reads and timers
 * that came meanwhile. A connection still waiting keeps taking frames, which
 * leave with the rest in its one write.
 */
function flush(): void {
  const deadline = performance.now() + FLUSH_SLICE_MS;
  let done = 0;
  while (done < corked.length) {
    corked[done++]!.uncork();
    if (done % CONNECTIONS_PER_CLOCK_READ === 0 && performance.now() >= deadline) break;
  }
  corked.splice(0, done);
  if (corked.length > 0) setImmediate(flush);
}

/**
 * Sends a live event's frame. A batch's commit is announced in one go, so a
 * socket gets several frames in the same turn of the event loop (one per
 * message of the batch, and the sender's acknowledgements right after):
 * its connection is corked at the first and uncorked once the turn has run
 * (setImmediate, before any timer), so they leave in one write instead of
 * one system call each. Uncorking is time-sliced (see flush): past
 * FLUSH_SLICE_MS the rest wait a turn, so the loop is never held long.
 *
 * The frame's bytes go straight to the connection when ws would write them
 * as they are: the socket open, no extension negotiated (a compressed
 * frame differs per socket) and nothing queued in its sender (which would
 * go first). Otherwise ws sends the text itself.
 */
export function sendBatched(ws: WebSocket, frame: SharedFrame): void {
  const { _socket: connection, _sender: sender, _extensions: extensions } = ws as unknown as WsInternals;
  if (!connection || connection.destroyed || ws.readyState !== WebSocket.OPEN) return;
  if (connection.writableCorked === 0) {
    connection.cork();
    if (corked.push(connection) === 1) setImmediate(flush);
  }
  if (sender?._state === 0 && sender._queue.length === 0 && isEmpty(extensions))
    connection.write(frame.bytes);
  else ws.send(frame.text);
}

function isEmpty(record: Record<string, unknown>): boolean {
  for (const _ in record) return false;
  return true;
}
