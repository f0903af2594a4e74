/**
 * A log-linear latency histogram in microseconds, mergeable across processes.
 * Values below 64 µs are exact; above, each power of two is split in 64
 * buckets, so a reported percentile is within about 1.6 % of the truth.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const BUCKETS = (32 - SUB_BITS + 1) * SUB;

function indexOf(us: number): number {
  const v = Math.min(Math.max(0, Math.round(us)), 0xffff_ffff);
  if (v < SUB) return v;
  const log2 = 31 - Math.clz32(v);
  const shift = log2 - SUB_BITS;
  return (shift + 1) * SUB + ((v >>> shift) - SUB);
}

/** The middle of the bucket, in microseconds. */
function bucketValue(index: number): number {
  if (index < SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  const mantissa = (index % SUB) + SUB;
  return (mantissa + 0.5) * 2 ** shift;
}

/** What crosses a process boundary: non-zero buckets only. */
export interface HistogramData {
  buckets: Array<[index: number, count: number]>;
  count: number;
  sumUs: number;
  maxUs: number;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sumUs = 0;
  #maxUs = 0;

  get count(): number {
    return this.#count;
  }

  recordMs(ms: number): void {
    this.recordUs(ms * 1000);
  }

  recordUs(us: number): void {
    this.#counts[indexOf(us)]!++;
    this.#count++;
    this.#sumUs += us;
    if (us > this.#maxUs) this.#maxUs = us;
  }

  /** The value at quantile q (0–1), in milliseconds; 0 when empty. */
  quantileMs(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(bucketValue(i), this.#maxUs) / 1000;
    }
    return this.#maxUs / 1000;
  }

  summary(): LatencySummary {
    return {
      count: this.#count,
      meanMs: this.#count === 0 ? 0 : this.#sumUs / this.#count / 1000,
      p50Ms: this.quantileMs(0.5),
      p90Ms: this.quantileMs(0.9),
      p99Ms: this.quantileMs(0.99),
      p999Ms: this.quantileMs(0.999),
      maxMs: this.#maxUs / 1000,
    };
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.#counts[i]! > 0) buckets.push([i, this.#counts[i]!]);
    return { buckets, count: this.#count, sumUs: this.#sumUs, maxUs: this.#maxUs };
  }

  add(data: HistogramData): void {
    for (const [index, count] of data.buckets) this.#counts[index]! += count;
    this.#count += data.count;
    this.#sumUs += data.sumUs;
    if (data.maxUs > this.#maxUs) this.#maxUs = data.maxUs;
  }

  static from(parts: Iterable<HistogramData>): Histogram {
    const h = new Histogram();
    for (const part of parts) h.add(part);
    return h;
  }
}
