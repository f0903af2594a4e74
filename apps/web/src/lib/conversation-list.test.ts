import { describe, expect, it } from 'vitest';
import {
  applyMessage,
  applyMessageUpdate,
  applyMute,
  applyRead,
  removeConversation,
  seenMessageId,
  sortConversations,
  unreadCount,
  unreadMentions,
  upsertConversation,
} from './conversation-list.ts';
import type { Conversation, ConversationListItem, Message } from './types.ts';

const ME = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000b1';

function item(id: string, lastActivity: string, lastSeq = 0, lastReadSeq = 0): ConversationListItem {
  return {
    id,
    kind: 'direct',
    title: 'me & bob',
    members: [ME, BOB],
    created_by: ME,
    created_at: '2026-11-01T00:00:00.000Z',
    last_activity_at: lastActivity,
    last_seq: lastSeq,
    last_message: null,
    last_read_seq: lastReadSeq,
    unread_count: lastSeq - lastReadSeq,
    read_seqs: {},
    muted: false,
    unread_mentions: 0,
    roles: {},
  };
}

function message(conversationId: string, seq: number, createdAt: string, sender = BOB): Message {
  return {
    id: `m-${conversationId}-${seq}`,
    message_id: `c-${seq}`,
    sender_id: sender,
    conversation_id: conversationId,
    content: `hello ${seq}`,
    created_at: createdAt,
    seq,
    kind: 'user',
    system: null,
    edited_at: null,
    deleted_at: null,
    reply_to: null,
    mentions: [],
    reactions: [],
    attachments: [],
  };
}

describe('applyMessage', () => {
  const list = sortConversations([
    item('a', '2026-11-27T10:00:00.000Z', 3),
    item('b', '2026-11-27T11:00:00.000Z', 1),
  ]);

  it('moves the conversation to the top with its new last message', () => {
    const m = message('a', 4, '2026-11-27T12:00:00.000Z');
    const result = applyMessage(list, m);
    expect(result.known).toBe(true);
    expect(result.list?.map((c) => c.id)).toEqual(['a', 'b']);
    expect(result.list?.[0]).toMatchObject({ last_message: m, last_seq: 4, last_activity_at: m.created_at });
  });

  it('counts the new message as unread', () => {
    const result = applyMessage(list, message('a', 4, '2026-11-27T12:00:00.000Z'));
    expect(result.list?.find((c) => c.id === 'a')?.unread_count).toBe(4);
  });

  it('ignores a message it has already applied, or an older one', () => {
    const once = applyMessage(list, message('a', 4, '2026-11-27T12:00:00.000Z')).list;
    expect(applyMessage(once, message('a', 4, '2026-11-27T12:00:00.000Z')).list).toBe(once);
    expect(applyMessage(once, message('a', 2, '2026-11-27T09:00:00.000Z')).list).toBe(once);
  });

  it('says when the conversation is not in the list', () => {
    expect(applyMessage(list, message('zzz', 1, '2026-11-27T12:00:00.000Z'))).toEqual({ list, known: false });
  });
});

describe('upsertConversation', () => {
  const conversation = (id: string, lastActivity: string, lastSeq = 0): Conversation => {
    const {
      last_read_seq: _r,
      unread_count: _u,
      read_seqs: _s,
      muted: _m,
      ...rest
    } = item(id, lastActivity, lastSeq);
    return rest;
  };

  it('adds a new conversation in activity order', () => {
    const list = [item('old', '2026-11-27T09:00:00.000Z')];
    const next = upsertConversation(list, conversation('new', '2026-11-27T12:00:00.000Z'));
    expect(next?.map((c) => c.id)).toEqual(['new', 'old']);
    expect(next?.[0]).toMatchObject({ last_read_seq: 0, unread_count: 0 });
  });

  it('refreshes a known one without losing my read position or a newer message', () => {
    const known = { ...item('a', '2026-11-27T12:00:00.000Z', 5, 4), last_message: message('a', 5, 'x') };
    const next = upsertConversation([known], {
      ...conversation('a', '2026-11-27T10:00:00.000Z', 3),
      title: 'Renamed',
    });
    expect(next?.[0]).toMatchObject({ title: 'Renamed', last_seq: 5, last_read_seq: 4 });
    expect(next?.[0]?.last_message?.seq).toBe(5);
  });

  it('keeps my mute: what every member receives never says it', () => {
    const known = { ...item('a', '2026-11-27T12:00:00.000Z'), muted: true };
    const next = upsertConversation([known], {
      ...conversation('a', '2026-11-27T12:00:00.000Z'),
      title: 'New',
    });
    expect(next?.[0]).toMatchObject({ title: 'New', muted: true });
    const added = upsertConversation([], conversation('b', '2026-11-27T12:00:00.000Z'));
    expect(added?.[0]?.muted).toBe(false);
  });
});

describe('applyMute', () => {
  const list = [item('a', '2026-11-27T12:00:00.000Z'), item('b', '2026-11-27T11:00:00.000Z')];

  it("sets my mute of one conversation and leaves the others' alone", () => {
    const next = applyMute(list, 'a', true);
    expect(next?.map((c) => c.muted)).toEqual([true, false]);
    expect(applyMute(next, 'a', false)?.map((c) => c.muted)).toEqual([false, false]);
  });

  it('changes nothing when already so, or for a conversation the list lacks', () => {
    expect(applyMute(list, 'a', false)).toBe(list);
    expect(applyMute(list, 'unknown', true)).toBe(list);
    expect(applyMute(undefined, 'a', true)).toBeUndefined();
  });
});

describe('applyRead', () => {
  const list = [item('a', '2026-11-27T12:00:00.000Z', 10, 4)];

  it('moves my read position and unread count when I read on another device', () => {
    const next = applyRead(list, { conversation_id: 'a', user_id: ME, last_read_seq: 8 }, ME);
    expect(next?.[0]).toMatchObject({ last_read_seq: 8, unread_count: 2, read_seqs: { [ME]: 8 } });
    expect(unreadCount(next![0]!, undefined, ME)).toBe(2);
  });

  it("records another member's position for receipts, leaving my unread count alone", () => {
    const next = applyRead(list, { conversation_id: 'a', user_id: BOB, last_read_seq: 9 }, ME);
    expect(next?.[0]).toMatchObject({ last_read_seq: 4, unread_count: 6, read_seqs: { [BOB]: 9 } });
  });

  it('never moves a position backwards, and ignores unknown conversations', () => {
    const once = applyRead(list, { conversation_id: 'a', user_id: BOB, last_read_seq: 9 }, ME);
    expect(applyRead(once, { conversation_id: 'a', user_id: BOB, last_read_seq: 5 }, ME)).toBe(once);
    expect(
      applyRead(list, { conversation_id: 'a', user_id: ME, last_read_seq: 2 }, ME)?.[0]?.last_read_seq,
    ).toBe(4);
    expect(applyRead(list, { conversation_id: 'zzz', user_id: ME, last_read_seq: 2 }, ME)).toBe(list);
  });
});

describe('applyMessageUpdate and removeConversation', () => {
  it('replaces the last message when it is the one edited', () => {
    const last = message('a', 5, '2026-11-27T12:00:00.000Z');
    const list = [{ ...item('a', '2026-11-27T12:00:00.000Z', 5), last_message: last }];
    const edited = { ...last, content: 'edited', edited_at: '2026-11-27T12:01:00.000Z' };
    expect(applyMessageUpdate(list, edited)?.[0]?.last_message).toBe(edited);
    expect(applyMessageUpdate(list, { ...edited, id: 'other' })).toBe(list);
  });

  it('drops a conversation I left', () => {
    const list = [item('a', '2026-11-27T12:00:00.000Z'), item('b', '2026-11-27T11:00:00.000Z')];
    expect(removeConversation(list, 'a')?.map((c) => c.id)).toEqual(['b']);
    expect(removeConversation(list, 'zzz')).toBe(list);
  });
});

describe('seenMessageId', () => {
  const at = '2026-11-27T12:00:00.000Z';
  const mine = (seq: number) => message('a', seq, at, ME);
  const bobs = (seq: number) => message('a', seq, at, BOB);

  it('marks my latest message the other member has read', () => {
    const messages = [bobs(1), mine(2), mine(3), mine(4)];
    expect(seenMessageId(messages, ME, 3)).toBe(mine(3).id);
    expect(seenMessageId(messages, ME, 4)).toBe(mine(4).id);
    expect(seenMessageId(messages, ME, 1)).toBeNull();
    expect(seenMessageId(messages, ME, undefined)).toBeNull();
  });

  it('says nothing once they wrote after my message', () => {
    expect(seenMessageId([mine(1), bobs(2)], ME, 2)).toBeNull();
    expect(seenMessageId([mine(1), bobs(2), mine(3)], ME, 2)).toBeNull();
  });

  it('passes over deleted messages and system lines', () => {
    const deleted = { ...mine(3), deleted_at: at, content: '' };
    const system = { ...bobs(4), kind: 'system' as const };
    expect(seenMessageId([mine(2), deleted, system], ME, 4)).toBe(mine(2).id);
  });
});

describe('unreadCount', () => {
  it('counts messages after the later of the server and local read positions', () => {
    const c = item('a', '2026-11-27T12:00:00.000Z', 10, 4);
    expect(unreadCount(c, undefined, ME)).toBe(6);
    expect(unreadCount(c, 8, ME)).toBe(2);
    expect(unreadCount(c, 2, ME)).toBe(6);
    expect(unreadCount(c, 12, ME)).toBe(0);
  });

  it('is zero when the last message is mine', () => {
    const c = { ...item('a', '2026-11-27T12:00:00.000Z', 10, 0), last_message: message('a', 10, 'x', ME) };
    expect(unreadCount(c, undefined, ME)).toBe(0);
  });
});

describe('unread mentions', () => {
  it("counts a new message that mentions me, not mine nor others' mentions", () => {
    let list: ConversationListItem[] | undefined = [item('a', '2026-11-27T10:00:00.000Z', 3, 3)];
    const at = '2026-11-27T12:00:00.000Z';
    list = applyMessage(list, { ...message('a', 4, at), mentions: [ME] }, ME).list;
    list = applyMessage(list, { ...message('a', 5, at), mentions: [BOB] }, ME).list;
    list = applyMessage(list, { ...message('a', 6, at, ME), mentions: [ME] }, ME).list;
    expect(list?.[0]?.unread_mentions).toBe(1);
  });

  it('clears them once I have read to the end, and shows none while nothing is unread', () => {
    const mentioned = { ...item('a', '2026-11-27T10:00:00.000Z', 6, 3), unread_mentions: 2 };
    const partly = applyRead([mentioned], { conversation_id: 'a', user_id: ME, last_read_seq: 5 }, ME);
    expect(partly?.[0]?.unread_mentions).toBe(2);
    const all = applyRead([mentioned], { conversation_id: 'a', user_id: ME, last_read_seq: 6 }, ME);
    expect(all?.[0]?.unread_mentions).toBe(0);
    expect(unreadMentions(mentioned, 0)).toBe(0);
    expect(unreadMentions(mentioned, 3)).toBe(2);
  });
});
