import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BusEvent } from '../../src/realtime/event-bus.ts';
import {
  announceTyping,
  TYPING_ANNOUNCE_EVERY_MS,
  TYPING_MIN_GAP_MS,
} from '../../src/services/activity.service.ts';
import { createConversation } from '../../src/services/conversations.service.ts';
import { openTestApi, type TestApi } from '../helpers/test-api.ts';

describe('typing announcements', () => {
  let api: TestApi;
  let typist: string;
  let room: string;
  const announced: BusEvent[] = [];
  let now = 1_000_000_000_000;

  beforeEach(async () => {
    api = await openTestApi('sqlite');
    typist = await api.signup('typist');
    const watcher = await api.signup('watcher');
    room = (await createConversation(api.deps, typist, { member_ids: [watcher], title: 'typing' })).id;
    api.deps.bus.subscribe((event) => {
      if (event.kind === 'typing') announced.push(event);
    });
    vi.spyOn(Date, 'now').mockImplementation(() => now);
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    announced.length = 0;
    await api.close();
  });

  it("keeps a client's announcements that arrive closer than it sent them, and drops a flood", async () => {
    await announceTyping(api.deps, typist, room);
    // The next, sent one interval later, was quicker on the wire by 400 ms.
    now += TYPING_ANNOUNCE_EVERY_MS - 400;
    await announceTyping(api.deps, typist, room);
    expect(announced).toHaveLength(2);
    // Announcements in between are dropped.
    for (let i = 0; i < 10; i++) {
      now += TYPING_MIN_GAP_MS / 10 - 1;
      await announceTyping(api.deps, typist, room);
    }
    expect(announced).toHaveLength(2);
    now += 10;
    await announceTyping(api.deps, typist, room);
    expect(announced).toHaveLength(3);
    expect(announced.at(-1)).toMatchObject({ kind: 'typing', conversation_id: room, user_id: typist });
  });
});
