import {
  type ApiDeps,
  type AuthenticatedUser,
  authenticate,
  inSpan,
  requireMembership,
  schemas,
  sendMessage,
  serializedOnce,
  sharedStreamEvent,
  unknownId,
} from '@pneumatic/api';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { reportFailure } from '../failures.ts';
import type { InFlight } from '../in-flight.ts';
import { bearerToken } from '../request-auth.ts';
import type { LiveSockets } from '../sockets/live-sockets.ts';
import { SHUTTING_DOWN, shedIfStalled, TOO_BUSY } from '../sockets/socket-limits.ts';

/** Frames a socket may have waiting to be handled; past it the client is flooding. */
const MAX_PENDING_FRAMES = 1000;

// Ids are any string here: one that is not a UUID is answered as an unknown one (the contract).
const JoinFrame = z.object({ type: z.literal('join'), conversation_id: z.string() });
const MessageFrame = schemas.SendMessageInput.extend({
  type: z.literal('message'),
  conversation_id: z.string(),
});

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export interface LegacySocketOptions {
  deps: ApiDeps;
  tracing: boolean;
  sockets: LiveSockets;
  /** Frames being handled; shutdown waits for them and refuses new ones. */
  frames: InFlight;
  onDelivered?: (createdAt: string) => void;
}

/** The old `/ws` JSON protocol, over the same services and event stream as tRPC. */
export async function legacySocketPlugin(app: FastifyInstance, opts: LegacySocketOptions): Promise<void> {
  const { deps, onDelivered, sockets, frames } = opts;
  app.get('/ws', { websocket: true }, (socket, request) => {
    // What the socket needs of its upgrade request; closures below never see the request, which
    // (with its headers, reply and logger) can then go as soon as the upgrade is done.
    serve(socket, bearerToken(request), request.log);
  });

  function serve(socket: WebSocket, token: string | null, log: FastifyBaseLogger): void {
    // @fastify/websocket's error listener holds the upgrade's request and reply for as long as the
    // socket lives; this one does what its default does (log, then drop the connection) without them.
    socket.removeAllListeners('error');
    socket.on('error', (err) => {
      log.warn({ err }, 'legacy socket error');
      socket.terminate();
    });
    const send = (frame: object) => {
      if (!shedIfStalled(socket)) socket.send(JSON.stringify(frame));
    };
    const sendError = (error: unknown) => send({ type: 'error', reason: reportFailure(log, error).message });
    // Frames that arrive while the token is checked wait for the answer.
    const ready = authenticate(deps, token).then(
      (auth) => attach(socket, auth, log),
      (error: unknown) => {
        const { close } = reportFailure(log, error);
        socket.close(close.code, close.reason);
        return null;
      },
    );

    function attach(ws: WebSocket, auth: AuthenticatedUser, socketLog: FastifyBaseLogger) {
      if (!sockets.admit(ws, auth)) return null;
      socketLog.info({ userId: auth.user.id, transport: 'legacy' }, 'socket open');
      const removeListener = deps.hub.addListener({
        userId: auth.user.id,
        deliver(event) {
          if (event.kind !== 'message' || shedIfStalled(ws)) return;
          // The frame is the stream event `{ type: 'message', message }`, serialized once for every socket.
          ws.send(serializedOnce(sharedStreamEvent(event)));
          onDelivered?.(event.message.created_at);
        },
      });
      ws.once('close', () => {
        removeListener();
        socketLog.info({ userId: auth.user.id, transport: 'legacy' }, 'socket closed');
      });
      return auth;
    }

    // Frames are handled one at a time, in the order they arrived: a client's
    // second message is never stored before its first.
    let queue: Promise<unknown> = ready;
    let pending = 0;
    socket.on('message', (data: RawData, isBinary: boolean) => {
      // A stopping server takes no new work: the frame is neither stored nor acknowledged.
      if (frames.draining) return send({ type: 'error', reason: SHUTTING_DOWN.reason });
      if (++pending > MAX_PENDING_FRAMES) {
        socket.close(TOO_BUSY.code, TOO_BUSY.reason);
        return;
      }
      queue = queue
        .then(async () => {
          const auth = await ready;
          if (!auth) return;
          if (opts.tracing)
            await inSpan('ws frame', { transport: 'legacy' }, undefined, () =>
              handleFrame(auth, data, isBinary),
            );
          else await handleFrame(auth, data, isBinary);
        })
        // A failure outside a frame's own handling must not stall the frames after it.
        .catch((error: unknown) => reportFailure(log, error))
        .finally(() => pending--);
      frames.track(queue);
    });

    async function handleFrame(auth: AuthenticatedUser, data: RawData, isBinary: boolean): Promise<void> {
      // Socket frames spend the same budget as the user's HTTP requests.
      const budget = await deps.budget?.consume(`user:${auth.user.id}`);
      if (budget && !budget.allowed) return send({ type: 'error', reason: budget.message });
      if (isBinary) return send({ type: 'error', reason: 'binary frames are not supported' });
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return send({ type: 'error', reason: 'invalid JSON' });
      }
      const type = typeof frame === 'object' && frame !== null && 'type' in frame ? frame.type : undefined;
      try {
        if (type === 'join') {
          const parsed = JoinFrame.safeParse(frame);
          if (!parsed.success)
            return send({ type: 'error', reason: `invalid join: ${describe(parsed.error)}` });
          const conversationId = parsed.data.conversation_id;
          if (!schemas.isId(conversationId)) throw unknownId.conversation();
          await requireMembership(deps.database.db, conversationId, auth.user.id);
          return send({ type: 'joined', conversation_id: conversationId });
        }
        if (type === 'message') {
          const parsed = MessageFrame.safeParse(frame);
          if (!parsed.success)
            return send({ type: 'error', reason: `invalid message: ${describe(parsed.error)}` });
          const { type: _, ...input } = parsed.data;
          if (!schemas.isId(input.conversation_id)) throw unknownId.conversation();
          // Queued in frame order, written with whatever else arrives (group commit); the next
          // frame is read meanwhile. A new message reaches this socket through the hub; a repeat
          // is acknowledged here alone.
          const sending = sendMessage(deps, auth.user.id, input).then((result) => {
            if (!result.created) send({ type: 'message', message: result.message });
          }, sendError);
          // Shutdown waits for it: an accepted frame is written, and answered while the socket is open.
          frames.track(sending);
          return;
        }
        return send({ type: 'error', reason: 'unknown type' });
      } catch (error) {
        sendError(error);
      }
    }
  }
}
