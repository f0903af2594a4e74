import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/** Connections corked during this turn of the event loop; all are uncorked once it has run. */
const corked: Socket[] = [];

function flush(): void {
  for (const connection of corked.splice(0)) connection.uncork();
}

/**
 * Sends a live event's frame. A batch's commit is announced in one go, so a
 * socket gets several frames in the same turn of the event loop (one per
 * message of the batch, and the sender's acknowledgements right after):
 * its connection is corked at the first and uncorked once the turn has run
 * (setImmediate, before any timer), so they leave in one write instead of
 * one system call each. Nothing waits longer than the turn it was sent in.
 */
export function sendBatched(ws: WebSocket, frame: string): void {
  // ws keeps the connection it speaks over as `_socket`.
  const connection = (ws as unknown as { _socket: Socket | null })._socket;
  if (connection && connection.writableCorked === 0 && !connection.destroyed) {
    connection.cork();
    if (corked.push(connection) === 1) setImmediate(flush);
  }
  ws.send(frame);
}
