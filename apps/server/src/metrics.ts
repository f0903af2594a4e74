import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export type Transport = 'trpc' | 'legacy';

const WINDOW_SECONDS = 60;

/** The contract's series and the process defaults, in one registry per server. */
export class Metrics {
  readonly registry = new Registry();
  readonly #connectionsTotal: Counter<'transport'>;
  readonly #connectionsActive: Gauge<'transport'>;
  readonly #messagesSent: Counter;
  // Messages per second over the last minute: one bucket per second, as a ring.
  readonly #buckets = new Uint32Array(WINDOW_SECONDS);
  #bucketSecond = Math.floor(Date.now() / 1000);

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.#connectionsTotal = new Counter({
      name: 'pneumatic_websocket_connections_total',
      help: 'WebSocket connections opened, by transport (trpc or legacy /ws)',
      labelNames: ['transport'],
      registers: [this.registry],
    });
    this.#connectionsActive = new Gauge({
      name: 'pneumatic_websocket_connections_active',
      help: 'WebSocket connections open now, by transport',
      labelNames: ['transport'],
      registers: [this.registry],
    });
    this.#messagesSent = new Counter({
      name: 'pneumatic_messages_sent_total',
      help: 'Messages stored (repeats of a message_id excluded)',
      registers: [this.registry],
    });
    const self = this;
    new Gauge({
      name: 'pneumatic_messages_per_second',
      help: 'Messages stored per second, mean over the last 60 seconds',
      registers: [this.registry],
      collect() {
        self.#advance();
        let sum = 0;
        for (const n of self.#buckets) sum += n;
        this.set(sum / WINDOW_SECONDS);
      },
    });
    for (const transport of ['trpc', 'legacy'] as const) {
      this.#connectionsTotal.inc({ transport }, 0);
      this.#connectionsActive.set({ transport }, 0);
    }
  }

  opened(transport: Transport): void {
    this.#connectionsTotal.inc({ transport });
    this.#connectionsActive.inc({ transport });
  }

  closed(transport: Transport): void {
    this.#connectionsActive.dec({ transport });
  }

  messageStored(): void {
    this.#messagesSent.inc();
    this.#advance();
    this.#buckets[this.#bucketSecond % WINDOW_SECONDS]!++;
  }

  /** Clears the buckets of seconds that passed without a message. */
  #advance(): void {
    const now = Math.floor(Date.now() / 1000);
    const steps = Math.min(now - this.#bucketSecond, WINDOW_SECONDS);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#bucketSecond + i) % WINDOW_SECONDS] = 0;
    if (now > this.#bucketSecond) this.#bucketSecond = now;
  }
}
