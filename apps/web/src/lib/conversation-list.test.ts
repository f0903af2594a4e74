import { describe, expect, it } from 'vitest';
import { applyMessage, sortConversations, unreadCount, upsertConversation } from './conversation-list.ts';
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
    const { last_read_seq: _r, unread_count: _u, ...rest } = item(id, lastActivity, lastSeq);
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
