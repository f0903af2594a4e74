import { afterEach, describe, expect, it } from 'vitest';
import { type BusEvent, InProcessEventBus } from '../../src/realtime/event-bus.ts';
import { InMemoryPresenceStore, Presence, type PresenceStore } from '../../src/realtime/presence.ts';

const BATCH_MS = 20;
const GRACE_MS = 30;

type PresenceEvent = Extract<BusEvent, { kind: 'presence' }>;

/** Everyone is a contact of everyone else, as in one group. */
function setup(options: { store?: PresenceStore; failAudience?: () => boolean } = {}) {
  const bus = new InProcessEventBus();
  const events: { event: PresenceEvent; turn: number }[] = [];
  // Counts turns of the event loop, to tell events published together from events published apart.
  let turn = 0;
  let counting = true;
  const tick = () => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  bus.subscribe((event) => {
    if (event.kind === 'presence') events.push({ event, turn });
  });
  const everyone = Array.from({ length: 50 }, (_, i) => `user-${i}`);
  const asked: string[][] = [];
  const presence = new Presence(
    options.store ?? new InMemoryPresenceStore(),
    bus,
    async (userIds) => {
      asked.push([...userIds]);
      if (options.failAudience?.()) throw new Error('database away');
      return new Map(userIds.map((id) => [id, everyone.filter((other) => other !== id)]));
    },
    { batchMs: BATCH_MS, graceMs: GRACE_MS, onError: (error) => errors.push(error) },
  );
  const errors: unknown[] = [];
  const stop = () => {
    counting = false;
    presence.close();
  };
  return { presence, events, asked, everyone, errors, stop };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('presence announcements', () => {
  let stop: (() => void) | undefined;
  afterEach(() => stop?.());

  it('announces users who come online together with one audience query, their events published in one go', async () => {
    const t = setup();
    stop = t.stop;
    for (const id of t.everyone) t.presence.connected(id);
    await settle(BATCH_MS * 4);

    expect(t.asked).toEqual([t.everyone]);
    expect(t.events.map((e) => e.event.user_id)).toEqual(t.everyone);
    expect(t.events.every((e) => e.event.online)).toBe(true);
    expect(t.events[0]!.event.recipients).toEqual(t.everyone.slice(1));
    // One turn: a contact's socket gets them in one write.
    expect(new Set(t.events.map((e) => e.turn)).size).toBe(1);
  });

  it('keeps the order of changes: online, then offline once the grace is over', async () => {
    const t = setup();
    stop = t.stop;
    t.presence.connected('user-1');
    t.presence.disconnected('user-1');
    await settle(BATCH_MS + GRACE_MS + BATCH_MS * 4);
    expect(t.events.map((e) => [e.event.user_id, e.event.online])).toEqual([
      ['user-1', true],
      ['user-1', false],
    ]);
  });

  it('does not announce a user already online on another instance, nor one back within the grace', async () => {
    const store = new InMemoryPresenceStore();
    await store.setOnline('user-2');
    const t = setup({ store });
    stop = t.stop;
    t.presence.connected('user-2');
    t.presence.connected('user-3');
    await settle(BATCH_MS * 4);
    t.presence.disconnected('user-3');
    t.presence.connected('user-3');
    await settle(GRACE_MS + BATCH_MS * 4);
    expect(t.events.map((e) => [e.event.user_id, e.event.online])).toEqual([['user-3', true]]);
  });

  it('reports an audience that cannot be read, and announces the next batch', async () => {
    let fail = true;
    const t = setup({ failAudience: () => fail });
    stop = t.stop;
    t.presence.connected('user-4');
    await settle(BATCH_MS * 4);
    expect(t.errors).toHaveLength(1);
    expect(t.events).toEqual([]);
    fail = false;
    t.presence.connected('user-5');
    await settle(BATCH_MS * 4);
    expect(t.events.map((e) => e.event.user_id)).toEqual(['user-5']);
  });
});
