import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/realtime/async-queue.ts';

/** Whether `promise` has settled once pending callbacks have run. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('AsyncQueue', () => {
  it('hands out what was pushed, in push order', async () => {
    const queue = new AsyncQueue<number>(10);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    expect(await queue.next()).toEqual({ value: 2, done: false });
    expect(await queue.next()).toEqual({ value: 3, done: false });
  });

  it('keeps a consumer waiting until the next push', async () => {
    const queue = new AsyncQueue<string>(10);
    const next = queue.next();
    expect(await settled(next)).toBe(false);
    queue.push('a');
    expect(await next).toEqual({ value: 'a', done: false });
  });

  it('feeds a for-await loop until end(), which first lets it drain what is queued', async () => {
    const queue = new AsyncQueue<number>(10);
    const received: number[] = [];
    const consumer = (async () => {
      for await (const item of queue) received.push(item);
    })();
    queue.push(1);
    await new Promise((resolve) => setImmediate(resolve));
    queue.push(2);
    queue.push(3);
    queue.end();
    await consumer;
    expect(received).toEqual([1, 2, 3]);
  });

  it('ends a waiting consumer on end() and ignores pushes after it', async () => {
    const queue = new AsyncQueue<number>(10);
    const next = queue.next();
    queue.end();
    expect(await next).toEqual({ value: undefined, done: true });
    queue.push(1);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('fails the consumer past capacity and drops what was queued', async () => {
    const queue = new AsyncQueue<number>(2);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    await expect(queue.next()).rejects.toThrow('subscriber too slow: event queue overflow');
    // Failed for good: later pushes are ignored and every read fails.
    queue.push(4);
    await expect(queue.next()).rejects.toThrow('event queue overflow');
  });

  it('counts only items nobody is waiting for against capacity', async () => {
    const queue = new AsyncQueue<number>(1);
    for (let i = 0; i < 5; i++) {
      const next = queue.next();
      queue.push(i);
      expect(await next).toEqual({ value: i, done: false });
    }
    queue.push(5);
    expect(await queue.next()).toEqual({ value: 5, done: false });
  });

  it('rejects a waiting consumer with the error it fails with', async () => {
    const queue = new AsyncQueue<number>(10);
    const next = queue.next();
    const error = new Error('stream closed');
    queue.fail(error);
    await expect(next).rejects.toBe(error);
    await expect(queue.next()).rejects.toBe(error);
  });

  it('stays ended when failed after end(), and failed when ended after fail()', async () => {
    const ended = new AsyncQueue<number>(10);
    ended.end();
    ended.fail(new Error('too late'));
    expect(await ended.next()).toEqual({ value: undefined, done: true });

    const failed = new AsyncQueue<number>(10);
    const error = new Error('first');
    failed.fail(error);
    failed.end();
    await expect(failed.next()).rejects.toBe(error);
  });

  it('ends on return(), as a for-await loop that breaks calls it', async () => {
    const queue = new AsyncQueue<number>(10);
    queue.push(1);
    for await (const item of queue) {
      expect(item).toBe(1);
      break;
    }
    queue.push(2);
    expect(await queue.next()).toEqual({ value: undefined, done: true });
  });

  it('resolves a waiting consumer as done when return() is called', async () => {
    const queue = new AsyncQueue<number>(10);
    const next = queue.next();
    expect(await queue.return()).toEqual({ value: undefined, done: true });
    expect(await next).toEqual({ value: undefined, done: true });
  });
});
