import {
  type ApiDeps,
  type AuthenticatedUser,
  type EphemeralBusEvent,
  inSpan,
  type Listener,
  type LogBusEvent,
  requireMembership,
  resolveSession,
  schemas,
  sendMessage,
  sharedStreamEvent,
  type TokenClaims,
  unknownId,
} from '@pneumatic/api';
import type { FastifyInstance } from 'fastify';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { reportFailure } from '../failures.ts';
import type { InFlight } from '../in-flight.ts';
import { frameOnce, sendBatched } from '../sockets/batched-writes.ts';
import type { LiveSockets, SocketConnection } from '../sockets/live-sockets.ts';
import { SHUTTING_DOWN, shedIfStalled, TOO_BUSY } from '../sockets/socket-limits.ts';
import type { SocketUpgrades } from '../sockets/upgrades.ts';

/** Frames a socket may have waiting to be handled; past it the client is flooding. */
const MAX_PENDING_FRAMES = 1000;

// Ids are any string here: one that is not a UUID is answered as an unknown one (the contract).
const JoinFrame = z.object({ type: z.literal('join'), conversation_id: z.string() });
const MessageFrame = schemas.SendMessageFields.extend({
  type: z.literal('message'),
  conversation_id: z.string(),
}).superRefine(schemas.contentOrFiles);

function describe(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export interface LegacySocketOptions {
  deps: ApiDeps;
  tracing: boolean;
  sockets: LiveSockets;
  upgrades: SocketUpgrades;
  /** Frames being handled; shutdown waits for them and refuses new ones. */
  frames: InFlight;
  onDelivered?: (createdAt: string) => void;
}

type Frame = [data: RawData, isBinary: boolean];

/** The old `/ws` JSON protocol, over the same services and event stream as tRPC. */
export async function legacySocketPlugin(app: FastifyInstance, opts: LegacySocketOptions): Promise<void> {
  const { deps, onDelivered, sockets, frames } = opts;
  // One logger for every socket: a child per socket would cost each socket its own prototype chain.
  const log = app.log.child({ route: '/ws', transport: 'legacy' });

  /**
   * One legacy socket: its login, its frames waiting their turn, and itself
   * as the hub's listener for its user's messages. Nothing of the upgrade
   * request is kept but its id, for the log.
   */
  class LegacyConnection implements Listener, SocketConnection {
    readonly transport = 'legacy';
    userId = '';
    auth: AuthenticatedUser | null = null;
    /** Settles once the token is checked: frames wait for it. Null once it has. */
    ready: Promise<AuthenticatedUser | null> | null;
    /** Frames received and not yet handled, in order; the one being handled is already out. */
    backlog: Frame[] | null = null;
    busy = false;

    constructor(
      readonly ws: WebSocket,
      readonly reqId: string,
      /** The upgrade's token, verified once: the rate limit verified it already when it keyed on it. */
      claims: Promise<TokenClaims>,
    ) {
      this.ready = claims
        .then((verified) => resolveSession(deps, verified))
        .then(
          (auth) => {
            this.ready = null;
            return this.#attach(auth);
          },
          (error: unknown) => {
            this.ready = null;
            const { close } = reportFailure(log, error);
            ws.close(close.code, close.reason);
            return null;
          },
        );
      frames.track(this.ready);
    }

    #attach(auth: AuthenticatedUser): AuthenticatedUser | null {
      if (!sockets.admit(this.ws, auth)) return null;
      this.auth = auth;
      this.userId = auth.user.id;
      deps.hub.addListener(this);
      log.info({ userId: auth.user.id, reqId: this.reqId }, 'socket open');
      return auth;
    }

    /** The hub's delivery: the frame is the stream event `{ type: 'message', message }`, made once for every socket. */
    deliver(event: LogBusEvent | EphemeralBusEvent): void {
      if (event.kind !== 'message' || shedIfStalled(this.ws)) return;
      sendBatched(this.ws, frameOnce(sharedStreamEvent(event)));
      onDelivered?.(event.message.created_at);
    }

    /** Frames already received are still handled: what a client sent before it hung up is kept. */
    closed(): void {
      if (this.auth === null) return;
      deps.hub.removeListener(this);
      log.info({ userId: this.userId, reqId: this.reqId }, 'socket closed');
    }

    send(frame: object): void {
      if (!shedIfStalled(this.ws)) this.ws.send(JSON.stringify(frame));
    }

    sendError(error: unknown): void {
      this.send({ type: 'error', reason: reportFailure(log, error).message });
    }

    /**
     * Frames are handled one at a time, in the order they arrived: a client's
     * second message is never stored before its first.
     */
    receive(data: RawData, isBinary: boolean): void {
      // A stopping server takes no new work: the frame is neither stored nor acknowledged.
      if (frames.draining) {
        this.send({ type: 'error', reason: SHUTTING_DOWN.reason });
        return;
      }
      this.backlog ??= [];
      if (this.backlog.length >= MAX_PENDING_FRAMES) {
        this.ws.close(TOO_BUSY.code, TOO_BUSY.reason);
        return;
      }
      this.backlog.push([data, isBinary]);
      if (!this.busy) frames.track(this.#work());
    }

    async #work(): Promise<void> {
      this.busy = true;
      try {
        if (this.ready) await this.ready;
        for (let frame = this.backlog?.shift(); frame; frame = this.backlog?.shift()) {
          if (!this.auth) return;
          try {
            if (opts.tracing)
              await inSpan('ws frame', { transport: 'legacy' }, undefined, () => this.#handle(...frame!));
            else await this.#handle(frame[0], frame[1]);
          } catch (error) {
            // A failure outside a frame's own handling must not stall the frames after it.
            reportFailure(log, error);
          }
        }
      } finally {
        this.busy = false;
      }
    }

    async #handle(data: RawData, isBinary: boolean): Promise<void> {
      const auth = this.auth!;
      // Socket frames spend the same budget as the user's HTTP requests.
      const budget = await deps.budget?.consume(`user:${auth.user.id}`);
      if (budget && !budget.allowed) return this.send({ type: 'error', reason: budget.message });
      if (isBinary) return this.send({ type: 'error', reason: 'binary frames are not supported' });
      let frame: unknown;
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return this.send({ type: 'error', reason: 'invalid JSON' });
      }
      const type = typeof frame === 'object' && frame !== null && 'type' in frame ? frame.type : undefined;
      try {
        if (type === 'join') {
          const parsed = JoinFrame.safeParse(frame);
          if (!parsed.success)
            return this.send({ type: 'error', reason: `invalid join: ${describe(parsed.error)}` });
          const conversationId = parsed.data.conversation_id;
          if (!schemas.isId(conversationId)) throw unknownId.conversation();
          await requireMembership(deps.database.db, conversationId, auth.user.id);
          return this.send({ type: 'joined', conversation_id: conversationId });
        }
        if (type === 'message') {
          const parsed = MessageFrame.safeParse(frame);
          if (!parsed.success)
            return this.send({ type: 'error', reason: `invalid message: ${describe(parsed.error)}` });
          const { type: _, ...input } = parsed.data;
          if (!schemas.isId(input.conversation_id)) throw unknownId.conversation();
          // Queued in frame order, written with whatever else arrives (group commit); the next
          // frame is read meanwhile. A new message reaches this socket through the hub; a repeat
          // is acknowledged here alone.
          const sending = sendMessage(deps, auth.user.id, input).then(
            (result) => {
              if (!result.created) this.send({ type: 'message', message: result.message });
            },
            (error: unknown) => this.sendError(error),
          );
          // Shutdown waits for it: an accepted frame is written, and answered while the socket is open.
          frames.track(sending);
          return;
        }
        return this.send({ type: 'error', reason: 'unknown type' });
      } catch (error) {
        this.sendError(error);
      }
    }
  }

  opts.upgrades.route('/ws', (socket, upgrade) => {
    sockets.open(socket, new LegacyConnection(socket, upgrade.id, upgrade.claims()), false);
  });
}
