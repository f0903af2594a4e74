import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionHub,
  type HubOptions,
  type Listener,
  type LogReader,
} from '../../src/realtime/connection-hub.ts';
import { type BusEvent, InProcessEventBus, type LogBusEvent } from '../../src/realtime/event-bus.ts';

const GAP_MS = 100;
const alice = 'alice';
const bob = 'bob';
const carol = 'carol';

function messageAt(pos: number, recipients: string[] = [alice, bob]): LogBusEvent {
  return {
    kind: 'message',
    pos,
    recipients,
    message: {
      id: `message-${pos}`,
      message_id: `client-${pos}`,
      sender_id: recipients[0]!,
      conversation_id: 'room',
      content: `message ${pos}`,
      attachments: [],
      created_at: '2030-01-01T00:00:00.000Z',
      seq: pos,
      kind: 'user',
      system: null,
      edited_at: null,
      deleted_at: null,
      reply_to: null,
      mentions: [],
      reactions: [],
    },
  };
}

const typing = (recipients: string[]): BusEvent => ({
  kind: 'typing',
  recipients,
  conversation_id: 'room',
  user_id: carol,
  expires_in_ms: 3000,
});

/** Adds a listener for `userId` and returns what it is handed: positions for log events, kinds for the others. */
function listen(hub: ConnectionHub, userId: string): (number | string)[] {
  const received: (number | string)[] = [];
  hub.addListener({ userId, deliver: (event) => received.push('pos' in event ? event.pos : event.kind) });
  return received;
}

const ignoring = (userId: string): Listener => ({ userId, deliver: () => {} });

const hubs: ConnectionHub[] = [];

/**
 * A hub on an in-process bus over a fake log: `commit` stores events as the
 * database would (read back by readLog and readHead), `announce` publishes them.
 */
function startHub(options: Partial<HubOptions> = {}) {
  const bus = new InProcessEventBus();
  const log: LogBusEvent[] = [];
  const readLog = vi.fn<LogReader>(async (from, to) => log.filter((e) => e.pos >= from && e.pos <= to));
  const readHead = vi.fn(async () => log.at(-1)?.pos ?? 0);
  const hub = new ConnectionHub(bus, { startAfter: 0, readLog, readHead, gapTimeoutMs: GAP_MS, ...options });
  hubs.push(hub);
  const commit = (...positions: number[]) => {
    for (const pos of positions) log.push(messageAt(pos));
  };
  const announce = (...positions: number[]) => {
    for (const pos of positions) bus.publish(log.find((e) => e.pos === pos) ?? messageAt(pos));
  };
  return { bus, hub, readLog, readHead, commit, announce };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  for (const hub of hubs.splice(0)) hub.close();
  vi.useRealTimers();
});

describe('ConnectionHub', () => {
  it('delivers an event to every listener of each recipient, and to no one else', () => {
    const { hub, commit, announce } = startHub();
    const alicePhone = listen(hub, alice);
    const aliceLaptop = listen(hub, alice);
    const bobPhone = listen(hub, bob);
    const carolPhone = listen(hub, carol);

    commit(1);
    announce(1);

    expect(alicePhone).toEqual([1]);
    expect(aliceLaptop).toEqual([1]);
    expect(bobPhone).toEqual([1]);
    expect(carolPhone).toEqual([]);
    expect(hub.deliveredPosition).toBe(1);
  });

  it('holds a later position until the earlier one is announced, then delivers both in order', async () => {
    const { hub, readLog, commit, announce } = startHub();
    const bobPhone = listen(hub, bob);
    commit(1, 2, 3);

    announce(3, 2);
    expect(bobPhone).toEqual([]);
    expect(hub.deliveredPosition).toBe(0);

    announce(1);
    expect(bobPhone).toEqual([1, 2, 3]);
    expect(hub.deliveredPosition).toBe(3);
    // Nothing was missing, so nothing is read from the database once the gap timeout passes.
    await vi.advanceTimersByTimeAsync(GAP_MS * 2);
    expect(readLog).not.toHaveBeenCalled();
  });

  it('reads a gap from the log when it is not announced within the gap timeout', async () => {
    const { hub, readLog, commit, announce } = startHub();
    const bobPhone = listen(hub, bob);
    commit(1, 2, 3);

    announce(3);
    await vi.advanceTimersByTimeAsync(GAP_MS - 1);
    expect(readLog).not.toHaveBeenCalled();
    expect(bobPhone).toEqual([]);

    await vi.advanceTimersByTimeAsync(1);
    expect(readLog).toHaveBeenCalledExactlyOnceWith(1, 2);
    expect(bobPhone).toEqual([1, 2, 3]);
    expect(hub.deliveredPosition).toBe(3);
  });

  it('skips positions the log no longer holds', async () => {
    const { hub, readLog, commit, announce } = startHub();
    const bobPhone = listen(hub, bob);
    // 2 and 3 were deleted since they were committed.
    commit(1, 4);

    announce(4);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    expect(readLog).toHaveBeenCalledExactlyOnceWith(1, 3);
    expect(bobPhone).toEqual([1, 4]);

    commit(5);
    announce(5);
    expect(bobPhone).toEqual([1, 4, 5]);
  });

  it('holds what is announced while a gap is being read until the read is done', async () => {
    const { hub, readLog, commit, announce } = startHub();
    const bobPhone = listen(hub, bob);
    commit(1, 2, 3, 4);
    let finishRead!: () => void;
    readLog.mockImplementationOnce(
      (from, to) =>
        new Promise((resolve) => {
          finishRead = () => resolve([1, 2].filter((p) => p >= from && p <= to).map((p) => messageAt(p)));
        }),
    );

    announce(3);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    expect(readLog).toHaveBeenCalledExactlyOnceWith(1, 2);
    // The bus brings 4, and 1 after all, while the read is under way.
    announce(4, 1);
    expect(bobPhone).toEqual([]);

    finishRead();
    await vi.advanceTimersByTimeAsync(0);
    expect(bobPhone).toEqual([1, 2, 3, 4]);
  });

  it('tries a failed gap read again after another gap timeout, and reports the failure', async () => {
    const onError = vi.fn();
    const { hub, readLog, commit, announce } = startHub({ onError });
    const bobPhone = listen(hub, bob);
    commit(1, 2);
    const outage = new Error('database unavailable');
    readLog.mockRejectedValueOnce(outage);

    announce(2);
    await vi.advanceTimersByTimeAsync(GAP_MS);
    expect(onError).toHaveBeenCalledWith(outage);
    expect(bobPhone).toEqual([]);

    await vi.advanceTimersByTimeAsync(GAP_MS);
    expect(readLog).toHaveBeenCalledTimes(2);
    expect(bobPhone).toEqual([1, 2]);
  });

  it('ignores duplicates and positions already delivered', async () => {
    const { hub, readLog, commit, announce } = startHub({ startAfter: 5 });
    const bobPhone = listen(hub, bob);
    commit(4, 5, 6, 7, 8);

    announce(4, 5, 6, 6, 8, 8, 7, 7);

    expect(bobPhone).toEqual([6, 7, 8]);
    await vi.advanceTimersByTimeAsync(GAP_MS * 2);
    expect(readLog).not.toHaveBeenCalled();
    expect(bobPhone).toEqual([6, 7, 8]);
  });

  it('delivers read, typing and presence at once, even while a log event waits for a gap', () => {
    const { hub, bus, commit, announce } = startHub();
    const alicePhone = listen(hub, alice);
    const bobPhone = listen(hub, bob);
    commit(1, 2);
    announce(2);

    bus.publish(typing([alice]));
    bus.publish({
      kind: 'read',
      recipients: [alice, bob],
      conversation_id: 'room',
      user_id: carol,
      last_read_seq: 4,
    });
    bus.publish({ kind: 'presence', recipients: [bob], user_id: carol, online: true });

    expect(alicePhone).toEqual(['typing', 'read']);
    expect(bobPhone).toEqual(['read', 'presence']);
    expect(hub.deliveredPosition).toBe(0);
  });

  it('tells presence of a user’s first listener arriving and last one leaving', () => {
    const presence = { connected: vi.fn(), disconnected: vi.fn() };
    const { hub } = startHub({ presence });

    const removePhone = hub.addListener(ignoring(alice));
    const removeLaptop = hub.addListener(ignoring(alice));
    expect(presence.connected.mock.calls).toEqual([[alice]]);
    expect(hub.listenerCount(alice)).toBe(2);

    removePhone();
    removePhone();
    expect(presence.disconnected).not.toHaveBeenCalled();
    removeLaptop();
    expect(presence.disconnected.mock.calls).toEqual([[alice]]);
    expect(hub.listenerCount()).toBe(0);

    hub.addListener(ignoring(alice));
    expect(presence.connected.mock.calls).toEqual([[alice], [alice]]);
  });

  it('keeps delivering to the other listeners when one throws, and reports the error', () => {
    const onError = vi.fn();
    const { hub, bus, commit, announce } = startHub({ onError });
    const broken = new Error('socket gone');
    const before = listen(hub, alice);
    hub.addListener({
      userId: alice,
      deliver: () => {
        throw broken;
      },
    });
    const after = listen(hub, alice);
    commit(1, 2);

    announce(1);
    bus.publish(typing([alice]));
    announce(2);

    expect(before).toEqual([1, 'typing', 2]);
    expect(after).toEqual([1, 'typing', 2]);
    expect(onError.mock.calls).toEqual([[broken], [broken], [broken]]);
    expect(hub.deliveredPosition).toBe(2);
  });

  it('catchUp() delivers what the bus lost, and what the bus brings late is ignored', async () => {
    const { hub, readLog, commit, announce } = startHub();
    const bobPhone = listen(hub, bob);
    commit(1, 2, 3);

    await hub.catchUp();
    expect(readLog).toHaveBeenCalledExactlyOnceWith(1, 3);
    expect(bobPhone).toEqual([1, 2, 3]);

    announce(2);
    commit(4);
    announce(4);
    expect(bobPhone).toEqual([1, 2, 3, 4]);
    await hub.catchUp();
    expect(readLog).toHaveBeenCalledTimes(1);
  });

  it('catches up on a long absence in chunks of 1000 positions', async () => {
    const { hub, readLog, commit } = startHub();
    const bobPhone = listen(hub, bob);
    const positions = Array.from({ length: 2500 }, (_, i) => i + 1);
    commit(...positions);

    await hub.catchUp();

    expect(readLog.mock.calls).toEqual([
      [1, 1000],
      [1001, 2000],
      [2001, 2500],
    ]);
    expect(bobPhone).toEqual(positions);
  });

  it('catches up by itself every catchUpIntervalMs', async () => {
    const { hub, readHead, commit } = startHub({ catchUpIntervalMs: 1000 });
    const bobPhone = listen(hub, bob);
    commit(1, 2);

    await vi.advanceTimersByTimeAsync(999);
    expect(readHead).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(bobPhone).toEqual([1, 2]);

    commit(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(bobPhone).toEqual([1, 2, 3]);
  });

  it('delivers nothing and reads nothing once closed', async () => {
    const { hub, readLog, commit, announce } = startHub();
    const bobPhone = listen(hub, bob);
    commit(1, 2);
    announce(2);

    hub.close();
    await vi.advanceTimersByTimeAsync(GAP_MS * 2);
    announce(1);

    expect(readLog).not.toHaveBeenCalled();
    expect(bobPhone).toEqual([]);
  });

  it('never hands a removed member what was addressed to them after their removal (another instance lagging)', () => {
    const { hub, bus } = startHub();
    const bobPhone = listen(hub, bob);
    const alicePhone = listen(hub, alice);
    const conversation = (pos: number, members: string[], recipients: string[]): LogBusEvent => ({
      kind: 'conversation',
      pos,
      recipients,
      conversation: {
        id: 'room',
        kind: 'group',
        title: 'room',
        members,
        created_by: alice,
        created_at: '2030-01-01T00:00:00.000Z',
        last_activity_at: '2030-01-01T00:00:00.000Z',
        last_seq: pos,
        last_message: null,
        roles: { [alice]: 'owner' },
      },
    });
    // Bob is removed (he is told), then a message addressed by a member list that still has him.
    bus.publish(conversation(1, [alice, carol], [alice, carol, bob]));
    bus.publish(messageAt(2, [alice, bob, carol]));
    expect(bobPhone).toEqual([1]);
    expect(alicePhone).toEqual([1, 2]);
    // Added again: he hears from the room again.
    bus.publish(conversation(3, [alice, carol, bob], [alice, carol, bob]));
    bus.publish(messageAt(4, [alice, bob, carol]));
    expect(bobPhone).toEqual([1, 3, 4]);
  });
});
