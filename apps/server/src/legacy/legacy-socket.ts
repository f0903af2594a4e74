import {
  type ApiDeps,
  AUTH_MESSAGES,
  type AuthenticatedUser,
  authenticate,
  inSpan,
  requireMembership,
  schemas,
  sendMessage,
  serializedOnce,
  sharedStreamEvent,
} from '@pneumatic/api';
import { TRPCError } from '@trpc/server';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { databaseOutage, OUTAGE_MESSAGES } from '../database-errors.ts';
import type { InFlight } from '../in-flight.ts';
import { type SocketCaps, TOO_MANY_USER_SOCKETS } from '../limits/socket-caps.ts';
import type { SessionWatch } from '../session-watch.ts';
import { closeAtExpiry, shedIfStalled } from '../ws-limits.ts';

const POLICY_VIOLATION = 1008;
const INTERNAL_ERROR = 1011;
const TRY_AGAIN_LATER = 1013;
/** Frames a socket may have waiting to be handled; past it the client is flooding. */
const MAX_PENDING_FRAMES = 1000;
const BUSY = { code: 1013, reason: 'too many frames in flight' } as const;
const SHUTTING_DOWN = 'server shutting down';

const JoinFrame = z.object({ type: z.literal('join'), conversation_id: schemas.Id });
const MessageFrame = schemas.SendMessageInput.extend({ type: z.literal('message') });

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

function tokenFrom(request: FastifyRequest): string | null {
  const query = request.query as Record<string, unknown>;
  if (typeof query.token === 'string' && query.token) return query.token;
  const match = /^bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match ? match[1]! : null;
}

/**
 * How a socket whose token could not be checked is closed: 1008 (log in
 * again) only for a token problem; a database outage is 1013 (try again
 * later), anything else 1011.
 */
function refusal(error: unknown): { code: number; reason: string } {
  if (error instanceof TRPCError && error.code === 'UNAUTHORIZED') {
    if (error.message === AUTH_MESSAGES.missing)
      return { code: POLICY_VIOLATION, reason: 'Missing authentication token' };
    if (error.message === AUTH_MESSAGES['wrong-type'])
      return { code: POLICY_VIOLATION, reason: 'Invalid token type' };
    return { code: POLICY_VIOLATION, reason: 'Invalid authentication token' };
  }
  const outage = databaseOutage(error);
  if (outage) return { code: TRY_AGAIN_LATER, reason: OUTAGE_MESSAGES[outage] };
  return { code: INTERNAL_ERROR, reason: 'internal error' };
}

export interface LegacySocketOptions {
  deps: ApiDeps;
  tracing: boolean;
  caps: SocketCaps;
  sessions: SessionWatch;
  /** Frames being handled; shutdown waits for them and refuses new ones. */
  frames: InFlight;
  onDelivered?: (createdAt: string) => void;
}

/** The old `/ws` JSON protocol, over the same services and event stream as tRPC. */
export async function legacySocketPlugin(app: FastifyInstance, opts: LegacySocketOptions): Promise<void> {
  const { deps, onDelivered, caps, sessions, frames } = opts;
  app.get('/ws', { websocket: true }, (socket, request) => {
    // What the socket needs of its upgrade request; closures below never see the request, which
    // (with its headers, reply and logger) can then go as soon as the upgrade is done.
    serve(socket, tokenFrom(request), request.log);
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
    // Frames that arrive while the token is checked wait for the answer.
    const ready = authenticate(deps, token).then(
      (auth) => attach(socket, auth, log),
      (error: unknown) => {
        const { code, reason } = refusal(error);
        if (code !== POLICY_VIOLATION) log.warn({ err: error }, 'legacy socket authentication failed');
        socket.close(code, reason);
        return null;
      },
    );

    function attach(ws: WebSocket, auth: AuthenticatedUser, socketLog: FastifyBaseLogger) {
      if (ws.readyState !== ws.OPEN) return null;
      if (!caps.admitUser(auth.user.id, ws)) {
        ws.close(TOO_MANY_USER_SOCKETS.code, TOO_MANY_USER_SOCKETS.reason);
        return null;
      }
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
      const unbind = deps.hub.bindToSession(auth.sessionId, ws);
      sessions.watch(auth.sessionId, ws);
      const cancelExpiry = closeAtExpiry(ws, auth.expiresAt);
      ws.once('close', () => {
        removeListener();
        unbind();
        cancelExpiry();
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
      if (frames.draining) return send({ type: 'error', reason: SHUTTING_DOWN });
      if (++pending > MAX_PENDING_FRAMES) {
        socket.close(BUSY.code, BUSY.reason);
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
        .catch((error: unknown) => log.error({ err: error }, 'legacy socket frame failed'))
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
          await requireMembership(deps.database.db, parsed.data.conversation_id, auth.user.id);
          return send({ type: 'joined', conversation_id: parsed.data.conversation_id });
        }
        if (type === 'message') {
          const parsed = MessageFrame.safeParse(frame);
          if (!parsed.success)
            return send({ type: 'error', reason: `invalid message: ${describe(parsed.error)}` });
          const { type: _, ...input } = parsed.data;
          // Queued in frame order, written with whatever else arrives (group commit); the next
          // frame is read meanwhile. A new message reaches this socket through the hub; a repeat
          // is acknowledged here alone.
          const sending = sendMessage(deps, auth.user.id, input).then(
            (result) => {
              if (!result.created) send({ type: 'message', message: result.message });
            },
            (error: unknown) => reportFailure(error),
          );
          // Shutdown waits for it: an accepted frame is written, and answered while the socket is open.
          frames.track(sending);
          return;
        }
        return send({ type: 'error', reason: 'unknown type' });
      } catch (error) {
        reportFailure(error);
      }
    }

    function reportFailure(error: unknown): void {
      if (error instanceof TRPCError && error.code !== 'INTERNAL_SERVER_ERROR') {
        send({ type: 'error', reason: error.message });
        return;
      }
      const outage = databaseOutage(error);
      if (outage) {
        log.warn({ err: error }, 'database unavailable');
        send({ type: 'error', reason: OUTAGE_MESSAGES[outage] });
        return;
      }
      log.error({ err: error }, 'legacy socket frame failed');
      send({ type: 'error', reason: 'internal error' });
    }
  }
}
