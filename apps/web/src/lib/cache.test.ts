import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { queryKeys, receiveConversation, receiveMessage, receivePresence, receiveRead } from './cache.ts';
import { flattenPages, type MessagePages } from './message-pages.ts';
import { ReadMarkers } from './read-markers.ts';
import type { ConversationListItem, Message, MessagePage, Person } from './types.ts';

const ME = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000b1';
const CONVERSATION = '00000000-0000-4000-8000-0000000000c1';

function message(seq: number): Message {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    message_id: `m${seq}`,
    sender_id: BOB,
    conversation_id: CONVERSATION,
    content: `message ${seq}`,
    created_at: new Date(Date.UTC(2026, 10, 27, 12, 0, seq)).toISOString(),
    seq,
    kind: 'user',
    system: null,
    edited_at: null,
    deleted_at: null,
  };
}

function listItem(lastSeq: number): ConversationListItem {
  return {
    id: CONVERSATION,
    kind: 'direct',
    title: '',
    members: [ME, BOB],
    created_by: ME,
    created_at: '2026-11-27T11:00:00.000Z',
    last_activity_at: message(lastSeq).created_at,
    last_seq: lastSeq,
    last_message: message(lastSeq),
    last_read_seq: 0,
    unread_count: lastSeq,
    read_seqs: {},
    muted: false,
  };
}

describe('receiveMessage', () => {
  it('survives a refetch that read the server before the message existed', async () => {
    const queryClient = new QueryClient();
    const key = queryKeys.messages(CONVERSATION);
    const initial: MessagePages = {
      pages: [{ messages: [message(1)], next_cursor: null }],
      pageParams: [null],
    };
    queryClient.setQueryData(key, initial);
    queryClient.setQueryData(queryKeys.conversations, [listItem(1)]);

    // A refetch is in flight with a page read before message 2 was stored...
    let answer!: (page: MessagePage) => void;
    const refetch = queryClient.fetchInfiniteQuery({
      queryKey: key,
      queryFn: () => new Promise<MessagePage>((resolve) => (answer = resolve)),
      initialPageParam: null as number | null,
      getNextPageParam: (page) => page.next_cursor,
    });
    let listAnswer!: (list: ConversationListItem[]) => void;
    const listRefetch = queryClient.fetchQuery({
      queryKey: queryKeys.conversations,
      queryFn: () => new Promise<ConversationListItem[]>((resolve) => (listAnswer = resolve)),
    });
    // ...when message 2 arrives live...
    receiveMessage(queryClient, message(2), ME, new ReadMarkers({ send: async () => {} }));
    // ...and then the stale answers land.
    answer({ messages: [message(1)], next_cursor: null });
    listAnswer([listItem(1)]);
    await Promise.all([refetch, listRefetch]);

    const pages = queryClient.getQueryData<MessagePages>(key);
    expect(flattenPages(pages).map((m) => m.seq)).toEqual([1, 2]);
    expect(queryClient.getQueryData<ConversationListItem[]>(queryKeys.conversations)?.[0]?.last_seq).toBe(2);
  });

  it('marks the list stale when the message is for a conversation it does not have', () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(queryKeys.conversations, [listItem(1)]);
    receiveMessage(
      queryClient,
      { ...message(1), conversation_id: 'unknown' },
      ME,
      new ReadMarkers({ send: async () => {} }),
    );
    expect(queryClient.getQueryState(queryKeys.conversations)?.isInvalidated).toBe(true);
    receiveMessage(queryClient, message(2), ME, new ReadMarkers({ send: async () => {} }));
    expect(queryClient.getQueryData<ConversationListItem[]>(queryKeys.conversations)?.[0]?.last_seq).toBe(2);
  });
});

describe('receiveConversation', () => {
  it('drops a conversation I am no longer in, with its history', () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(queryKeys.conversations, [listItem(1)]);
    queryClient.setQueryData(queryKeys.messages(CONVERSATION), {
      pages: [{ messages: [message(1)], next_cursor: null }],
      pageParams: [null],
    });
    const { last_read_seq: _r, unread_count: _u, read_seqs: _s, ...conversation } = listItem(2);
    receiveConversation(queryClient, { ...conversation, members: [BOB] }, ME);
    expect(queryClient.getQueryData(queryKeys.conversations)).toEqual([]);
    expect(queryClient.getQueryData(queryKeys.messages(CONVERSATION))).toBeUndefined();
  });
});

describe('receiveRead', () => {
  it('clears my unread count when I read on another device', () => {
    const queryClient = new QueryClient();
    const markers = new ReadMarkers({ send: async () => {} });
    queryClient.setQueryData(queryKeys.conversations, [listItem(3)]);
    receiveRead(queryClient, { conversation_id: CONVERSATION, user_id: ME, last_read_seq: 3 }, ME, markers);
    const item = queryClient.getQueryData<ConversationListItem[]>(queryKeys.conversations)?.[0];
    expect(item).toMatchObject({ last_read_seq: 3, unread_count: 0 });
    expect(markers.get()[CONVERSATION]).toBe(3);
  });
});

describe('receivePresence', () => {
  const bob: Person = { id: BOB, username: 'bob', full_name: null, online: false };

  it('turns the dot on and off, and refetches the people list for someone it lacks', () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(queryKeys.users, [bob]);
    receivePresence(queryClient, BOB, true, ME);
    expect(queryClient.getQueryData<Person[]>(queryKeys.users)?.[0]?.online).toBe(true);
    expect(queryClient.getQueryState(queryKeys.users)?.isInvalidated).toBe(false);
    receivePresence(queryClient, 'someone-new', true, ME);
    expect(queryClient.getQueryState(queryKeys.users)?.isInvalidated).toBe(true);
  });
});
