import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CountedHistogram } from '../src/counted-histogram.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

describe('a histogram observed per delivery', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counted = new CountedHistogram(
      'latency_seconds',
      'Latency',
      'transport',
      ['trpc', 'legacy'],
      BUCKETS,
      ours,
    );
    const histogram = new Histogram({
      name: 'latency_seconds',
      help: 'Latency',
      labelNames: ['transport'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    // At and around every bound, beyond the last, and zero.
    const values = [0, ...BUCKETS.flatMap((b) => [b * 0.99, b, b * 1.01]), 3, 100];
    const trpc = counted.labels('trpc');
    const legacy = counted.labels('legacy');
    for (const [i, value] of values.entries()) {
      trpc.observe(value);
      histogram.observe({ transport: 'trpc' }, value);
      if (i % 3 === 0) {
        legacy.observe(value);
        histogram.observe({ transport: 'legacy' }, value);
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());

    ours.resetMetrics();
    const text = await ours.metrics();
    expect(text).toContain('latency_seconds_count{transport="trpc"} 0');
    expect(text).toContain('latency_seconds_bucket{le="+Inf",transport="legacy"} 0');
  });

  it('refuses a label value it was not made with', () => {
    const counted = new CountedHistogram('l', 'L', 'transport', ['trpc'], BUCKETS, new Registry());
    expect(() => counted.labels('smoke' as 'trpc')).toThrow(/no series/);
  });
});
