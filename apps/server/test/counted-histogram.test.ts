import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CountedHistogram } from '../src/counted-histogram.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

describe('a histogram observed per delivery', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counted = new CountedHistogram('latency_seconds', 'Latency', ['transport'], BUCKETS, ours, [
      ['trpc'],
      ['legacy'],
    ]);
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

  it('makes a series of several labels on first use, exposed as prom-client exposes it', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const counted = new CountedHistogram('call_seconds', 'Calls', ['path', 'type'], BUCKETS, ours);
    const histogram = new Histogram({
      name: 'call_seconds',
      help: 'Calls',
      labelNames: ['path', 'type'],
      buckets: BUCKETS,
      registers: [theirs],
    });
    const calls = [
      ['messages.send', 'mutation', 0.0007],
      ['messages.list', 'query', 0.02],
      ['messages.send', 'mutation', 0.3],
      // Values that would run together if the key were a plain concatenation.
      ['messages.sendm', 'utation', 0.004],
    ] as const;
    for (const [path, type, seconds] of calls) {
      counted.labels(path, type).observe(seconds);
      histogram.observe({ path, type }, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toContain('call_seconds_count{path="messages.send",type="mutation"} 2');
  });

  it('refuses label values that do not match its label names', () => {
    const counted = new CountedHistogram('l', 'L', ['path', 'type'], BUCKETS, new Registry());
    expect(() => counted.labels('messages.send')).toThrow(/2 label values expected, got 1/);
  });
});
