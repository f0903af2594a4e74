import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeTyping, TypingState, typingUserIds } from './typing.ts';

const ME = 'me';

describe('TypingState', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => vi.useRealTimers());

  it('shows someone until their indicator expires, by itself', () => {
    const typing = new TypingState();
    const changes = vi.fn();
    typing.subscribe(changes);
    typing.started('c1', 'bob', 6000);
    expect(typingUserIds(typing.get().get('c1'), ME)).toEqual(['bob']);

    vi.advanceTimersByTime(5999);
    expect(typingUserIds(typing.get().get('c1'), ME)).toEqual(['bob']);
    vi.advanceTimersByTime(1);
    expect(typing.get().has('c1')).toBe(false);
    expect(changes).toHaveBeenCalledTimes(2);
    typing.close();
  });

  it('keeps someone who renews before expiry, and expires each person on their own clock', () => {
    const typing = new TypingState();
    typing.started('c1', 'bob', 6000);
    vi.advanceTimersByTime(4000);
    typing.started('c1', 'bob', 6000);
    typing.started('c1', 'carol', 1000);
    vi.advanceTimersByTime(1000);
    expect(typingUserIds(typing.get().get('c1'), ME)).toEqual(['bob']);
    vi.advanceTimersByTime(4999);
    expect(typingUserIds(typing.get().get('c1'), ME)).toEqual(['bob']);
    vi.advanceTimersByTime(1);
    expect(typing.get().size).toBe(0);
    typing.close();
  });

  it('ends at once when their message arrives, leaving other conversations alone', () => {
    const typing = new TypingState();
    typing.started('c1', 'bob', 6000);
    typing.started('c2', 'bob', 6000);
    typing.stopped('c1', 'bob');
    expect(typing.get().has('c1')).toBe(false);
    expect(typingUserIds(typing.get().get('c2'), ME)).toEqual(['bob']);
    typing.close();
  });

  it('keeps the snapshot of an untouched conversation, so its view does not re-render', () => {
    const typing = new TypingState();
    typing.started('c1', 'bob', 6000);
    const c1 = typing.get().get('c1');
    typing.started('c2', 'carol', 1000);
    vi.advanceTimersByTime(1000);
    expect(typing.get().get('c1')).toBe(c1);
    typing.close();
  });

  it('never lists me', () => {
    const typing = new TypingState();
    typing.started('c1', ME, 6000);
    typing.started('c1', 'bob', 6000);
    expect(typingUserIds(typing.get().get('c1'), ME)).toEqual(['bob']);
    typing.close();
  });
});

describe('describeTyping', () => {
  it('names one or two people, and counts no further', () => {
    expect(describeTyping([])).toBeNull();
    expect(describeTyping(['Bob'])).toBe('Bob is typing…');
    expect(describeTyping(['Bob', 'Carol'])).toBe('Bob and Carol are typing…');
    expect(describeTyping(['Bob', 'Carol', 'Dave'])).toBe('Several people are typing…');
  });
});
