import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { CountedHistogram } from './counted-histogram.ts';

export type Transport = 'trpc' | 'legacy';
const TRANSPORTS: readonly Transport[] = ['trpc', 'legacy'];

const WINDOW_SECONDS = 60;
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The contract's series, the operating series and the process defaults, in one registry per server. */
export class Metrics {
  readonly registry = new Registry();
  // Sockets opened and open, and subscriptions open, are counted here and read when scraped: a
  // prom-client series update hashes and checks its labels, half of a socket's connect in metrics.
  readonly #socketsOpened: Record<Transport, number> = { trpc: 0, legacy: 0 };
  readonly #socketsOpen: Record<Transport, number> = { trpc: 0, legacy: 0 };
  #subscriptionsOpen = 0;
  readonly #messagesSent: Counter;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly procedureDuration: CountedHistogram<'path' | 'type'>;
  readonly procedureErrors: Counter<'path' | 'code'>;
  readonly deliveryLatency: CountedHistogram<'transport'>;
  readonly dbQueryDuration: CountedHistogram<'outcome'>;
  readonly rateLimited: Counter<'window'>;
  readonly socketsRefused: Counter<'reason'>;
  readonly batchSize: Histogram;
  readonly #deliveryLatencyOf: Record<Transport, { observe(value: number): void }>;
  // Messages of one batch share their created_at: parsed once for all their deliveries.
  #lastCreatedAt = '';
  #lastCreatedMs = 0;
  // Messages per second over the last minute: one bucket per second, as a ring.
  readonly #buckets = new Uint32Array(WINDOW_SECONDS);
  #bucketSecond = Math.floor(Date.now() / 1000);

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const self = this;
    new Counter({
      name: 'pneumatic_websocket_connections_total',
      help: 'WebSocket connections opened, by transport (trpc or legacy /ws)',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        for (const transport of TRANSPORTS) this.inc({ transport }, self.#socketsOpened[transport]);
      },
    });
    new Gauge({
      name: 'pneumatic_websocket_connections_active',
      help: 'WebSocket connections open now, by transport',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const transport of TRANSPORTS) this.set({ transport }, self.#socketsOpen[transport]);
      },
    });
    this.#messagesSent = new Counter({
      name: 'pneumatic_messages_sent_total',
      help: 'Messages stored (repeats of a message_id excluded)',
      registers,
    });
    new Gauge({
      name: 'pneumatic_messages_per_second',
      help: 'Messages stored per second, mean over the last 60 seconds',
      registers,
      collect() {
        self.#advance();
        let sum = 0;
        for (const n of self.#buckets) sum += n;
        this.set(sum / WINDOW_SECONDS);
      },
    });
    this.httpDuration = new Histogram({
      name: 'pneumatic_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status'],
      buckets: FAST_BUCKETS,
      registers,
    });
    // Observed per call and per query: series found by one key (see CountedHistogram).
    this.procedureDuration = new CountedHistogram(
      'pneumatic_trpc_procedure_duration_seconds',
      'tRPC procedure duration (REST and sockets included), by path and type',
      ['path', 'type'],
      FAST_BUCKETS,
      this.registry,
    );
    this.procedureErrors = new Counter({
      name: 'pneumatic_trpc_procedure_errors_total',
      help: 'tRPC procedure calls that failed, by path and error code',
      labelNames: ['path', 'code'],
      registers,
    });
    // Observed for every socket a message reaches: series held here, no label lookup per observation.
    this.deliveryLatency = new CountedHistogram(
      'pneumatic_message_delivery_latency_seconds',
      'From a message being stored to its write to a socket',
      ['transport'],
      FAST_BUCKETS,
      this.registry,
      [['trpc'], ['legacy']],
    );
    this.#deliveryLatencyOf = {
      trpc: this.deliveryLatency.labels('trpc'),
      legacy: this.deliveryLatency.labels('legacy'),
    };
    new Gauge({
      name: 'pneumatic_subscriptions_active',
      help: 'Event stream subscriptions open now',
      registers,
      collect() {
        this.set(self.#subscriptionsOpen);
      },
    });
    this.dbQueryDuration = new CountedHistogram(
      'pneumatic_db_query_duration_seconds',
      'Database query duration',
      ['outcome'],
      FAST_BUCKETS,
      this.registry,
      [['ok'], ['error']],
    );
    this.rateLimited = new Counter({
      name: 'pneumatic_rate_limit_rejections_total',
      help: 'Requests refused by the rate limit, by the window that ran out',
      labelNames: ['window'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'pneumatic_group_commit_batch_size',
      help: 'Sends written together in one transaction (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.socketsRefused = new Counter({
      name: 'pneumatic_websocket_refused_total',
      help: 'Sockets refused: past the per-user cap (user), the per-address cap (address) or the rate limit (rate)',
      labelNames: ['reason'],
      registers,
    });
  }

  opened(transport: Transport): void {
    this.#socketsOpened[transport]++;
    this.#socketsOpen[transport]++;
  }

  closed(transport: Transport): void {
    this.#socketsOpen[transport]--;
  }

  subscriptionsChanged(delta: number): void {
    this.#subscriptionsOpen += delta;
  }

  messageStored(): void {
    this.#messagesSent.inc();
    this.#advance();
    this.#buckets[this.#bucketSecond % WINDOW_SECONDS]!++;
  }

  /** Called for every socket a message reaches: the labels are bound once, a batch's time parsed once. */
  messageDelivered(createdAt: string, transport: Transport): void {
    if (createdAt !== this.#lastCreatedAt) {
      this.#lastCreatedAt = createdAt;
      this.#lastCreatedMs = Date.parse(createdAt);
    }
    this.#deliveryLatencyOf[transport].observe(Math.max(0, Date.now() - this.#lastCreatedMs) / 1000);
  }

  /** Clears the buckets of seconds that passed without a message. */
  #advance(): void {
    const now = Math.floor(Date.now() / 1000);
    const steps = Math.min(now - this.#bucketSecond, WINDOW_SECONDS);
    for (let i = 1; i <= steps; i++) this.#buckets[(this.#bucketSecond + i) % WINDOW_SECONDS] = 0;
    if (now > this.#bucketSecond) this.#bucketSecond = now;
  }
}
