import type { MetricObjectWithValues, MetricValueWithName, Registry } from 'prom-client';

/** One set of label values' series: a count per bucket (not cumulative), the sum and the count. */
class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly upperBounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(upperBounds.length);
  }

  observe(value: number): void {
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram for the paths that observe one per message: per
 * socket and message (delivery latency), per call (a procedure's duration),
 * per query. Each set of label values' series is an object, found by one
 * key (made on first use, or up front and exposed at zero) or held by the
 * caller, and observed with a loop over the bounds and three additions.
 * prom-client's Histogram turns the labels object into a sorted key and
 * looks the series up on every observation: 3 % of the event loop at full
 * fan-out for delivery latency, 1.5 % for a send's procedure and query
 * durations. Exposed in prom-client's registry with the same lines its
 * Histogram writes: `_bucket` (cumulative, `le`, `+Inf` last), `_sum`,
 * `_count`.
 */
export class CountedHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** By label values, in the order of `labelNames`, joined with a character no label value holds here. */
  readonly #series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    private readonly upperBounds: readonly number[],
    registry: Registry,
    /** Label values exposed from the start, at zero (prom-client's `zero()`). */
    known: readonly (readonly string[])[] = [],
  ) {
    for (const values of known) this.labels(...values);
    // A metric is what the registry can `get()`; this is one without being prom-client's class.
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The series of these label values (one per label name, in order), made on first use: observe it directly. */
  labels(...values: string[]): { observe(value: number): void } {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let series = this.#series.get(key);
    if (!series) {
      if (values.length !== this.labelNames.length)
        throw new Error(
          `${this.name}: ${this.labelNames.length} label values expected, got ${values.length}`,
        );
      series = new Series(
        this.upperBounds,
        Object.fromEntries(this.labelNames.map((name, i) => [name, values[i]!])),
      );
      this.#series.set(key, series);
    }
    return series;
  }

  async get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.#series.values()) {
      const labels = series.labels;
      let cumulative = 0;
      this.upperBounds.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({
          value: cumulative,
          labels: { le: bound, ...labels },
          metricName: `${this.name}_bucket`,
        });
      });
      values.push({
        value: series.count,
        labels: { le: '+Inf', ...labels },
        metricName: `${this.name}_bucket`,
      });
      values.push({ value: series.sum, labels, metricName: `${this.name}_sum` });
      values.push({ value: series.count, labels, metricName: `${this.name}_count` });
    }
    return {
      name: this.name,
      help: this.help,
      // prom-client's own metrics answer 'histogram' here; its types declare a numeric enum.
      type: this.type as unknown as MetricObjectWithValues<MetricValueWithName<string>>['type'],
      aggregator: this.aggregator,
      collect: () => {},
      values,
    };
  }

  reset(): void {
    for (const series of this.#series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
