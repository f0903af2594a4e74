import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReadMarkers } from './read-markers.ts';

describe('ReadMarkers', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('counts as read at once, and tells the server once per pause with the latest seq', () => {
    const send = vi.fn(async () => {});
    const markers = new ReadMarkers({ send, debounceMs: 500 });
    markers.report('c1', 3);
    expect(markers.get().c1).toBe(3);
    vi.advanceTimersByTime(300);
    markers.report('c1', 5);
    vi.advanceTimersByTime(499);
    expect(send).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(send).toHaveBeenCalledExactlyOnceWith('c1', 5);
  });

  it('does not call when the server already has that position', () => {
    const send = vi.fn(async () => {});
    const markers = new ReadMarkers({ send, debounceMs: 10 });
    markers.serverRead('c1', 7);
    markers.report('c1', 7);
    markers.report('c1', 6);
    vi.advanceTimersByTime(20);
    expect(send).not.toHaveBeenCalled();
    markers.report('c1', 8);
    vi.advanceTimersByTime(20);
    expect(send).toHaveBeenCalledExactlyOnceWith('c1', 8);
  });

  it('a message I sent counts as read here, but the server is still told when I read it', () => {
    const send = vi.fn(async () => {});
    const markers = new ReadMarkers({ send, debounceMs: 10 });
    markers.markRead('c1', 4);
    markers.report('c1', 4);
    vi.advanceTimersByTime(20);
    expect(send).toHaveBeenCalledExactlyOnceWith('c1', 4);
  });

  it('tries again on the next report after a failed call', async () => {
    const send = vi.fn().mockRejectedValueOnce(new TypeError('offline')).mockResolvedValue(undefined);
    const markers = new ReadMarkers({ send, debounceMs: 10 });
    markers.report('c1', 2);
    await vi.advanceTimersByTimeAsync(20);
    markers.report('c1', 2);
    await vi.advanceTimersByTimeAsync(20);
    expect(send.mock.calls).toEqual([
      ['c1', 2],
      ['c1', 2],
    ]);
  });

  it('never moves backwards, and close stops what is pending', () => {
    const send = vi.fn(async () => {});
    const markers = new ReadMarkers({ send, debounceMs: 10 });
    markers.markRead('c1', 9);
    markers.markRead('c1', 3);
    expect(markers.get().c1).toBe(9);
    markers.report('c2', 1);
    markers.close();
    vi.advanceTimersByTime(20);
    expect(send).not.toHaveBeenCalled();
  });
});
