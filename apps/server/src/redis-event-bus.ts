import type { BusEvent, BusHandler, EventBus } from '@pneumatic/api';
import { EVENT_KINDS, type EventKind } from '@pneumatic/db';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { connectRedis, waitUntilReady } from './redis.ts';

/**
 * The event bus across instances, on Redis pub/sub: one publishing and one
 * subscribing connection per instance, never one per client.
 *
 * Events are handed to this instance's handlers at once and published for
 * the others; an instance ignores its own events coming back (the hub drops
 * positions it has delivered). While Redis is away, the others miss events;
 * `onReconnect` lets the hub read what it missed from the database.
 */
export class RedisEventBus implements EventBus {
  readonly #handlers = new Set<BusHandler>();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #logger: Logger;
  #onReconnect: (() => void) | undefined;
  readonly #channel: string;

  /** `clusterId` names the channel: only instances on the same database share it. */
  constructor(url: string, clusterId: string, logger: Logger) {
    this.#channel = `pneumatic:${clusterId}:events`;
    this.#logger = logger;
    this.#publisher = connectRedis(url, logger, 'bus-pub');
    // Subscribing needs the offline queue: the subscription is replayed on every reconnect.
    this.#subscriber = connectRedis(url, logger, 'bus-sub', { offlineQueue: true });
    let connectedBefore = false;
    this.#subscriber.on('ready', () => {
      if (connectedBefore) this.#onReconnect?.();
      connectedBefore = true;
    });
    this.#subscriber.on('message', (_channel: string, payload: string) => {
      const event = readBusEvent(payload);
      if (!event) {
        this.#logger.warn({ event: 'bus message unreadable' }, 'dropped an unreadable bus message');
        return;
      }
      this.#dispatch(event);
    });
    void this.#subscriber.subscribe(this.#channel).catch((err: Error) => {
      this.#logger.warn({ event: 'bus subscribe failed', err: err.message }, 'will subscribe on reconnect');
    });
  }

  /** Resolves once both connections are up, or after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<boolean> {
    const [pub, sub] = await Promise.all([
      waitUntilReady(this.#publisher, timeoutMs),
      waitUntilReady(this.#subscriber, timeoutMs),
    ]);
    return pub && sub;
  }

  /** Called when the subscription comes back after an outage. */
  onReconnect(handler: () => void): void {
    this.#onReconnect = handler;
  }

  publish(event: BusEvent): void {
    this.#dispatch(event);
    this.#publisher.publish(this.#channel, JSON.stringify(event)).catch(() => {
      // The others catch up from the database when the bus returns.
    });
  }

  subscribe(handler: BusHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  async ping(): Promise<void> {
    await Promise.all([
      this.#publisher.ping(),
      this.#subscriber.status === 'ready' ? undefined : Promise.reject(new Error('subscriber down')),
    ]);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    // Redis answers in order: once this ping is answered, every publish before it went out
    // (a CLI command publishes and exits at once).
    if (this.#publisher.status === 'ready') await this.#publisher.ping().catch(() => {});
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }

  #dispatch(event: BusEvent): void {
    for (const handler of this.#handlers) {
      try {
        handler(event);
      } catch (err) {
        this.#logger.error({ err }, 'event handler failed');
      }
    }
  }
}

/**
 * Kinds as instances from before the names were unified spell them: they
 * still publish during a rolling upgrade, and a revoked session must still
 * close its sockets here. Remove once no such instance runs.
 */
const FORMER_KINDS: ReadonlyMap<string, EventKind> = new Map([
  ['message.updated', 'message_updated'],
  ['session.revoked', 'session_revoked'],
]);

/** The event a bus message carries, or undefined if it is not JSON or not of a kind this instance knows. */
function readBusEvent(payload: string): BusEvent | undefined {
  let event: unknown;
  try {
    event = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null || !('kind' in event) || typeof event.kind !== 'string') {
    return undefined;
  }
  const kind = FORMER_KINDS.get(event.kind) ?? event.kind;
  if (!(EVENT_KINDS as readonly string[]).includes(kind)) return undefined;
  // The object is this message's own (just parsed): renamed in place. A copy (`{ ...event, kind }`)
  // takes V8's slow path for a spread followed by a property, microseconds an event (see authedContext).
  event.kind = kind;
  return event as BusEvent;
}
