import type { PneumaticRouter } from '@pneumatic/client';
import { QueryClient } from '@tanstack/react-query';
import type { TRPCLink } from '@trpc/client';
import { createTRPCQueryUtils } from '@trpc/react-query';
import { observable } from '@trpc/server/observable';
import { describe, expect, it } from 'vitest';
import { historyInput, trpc } from '../trpc.ts';
import {
  type Cache,
  receiveConversation,
  receiveMessage,
  receivePresence,
  receiveRead,
  receiveUser,
} from './cache.ts';
import { flattenPages, type MessagePages } from './message-pages.ts';
import { ReadMarkers } from './read-markers.ts';
import type { ConversationListItem, KnownPerson, Message, MessagePage } from './types.ts';

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
    reply_to: null,
    mentions: [],
    reactions: [],
    attachments: [],
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
    unread_mentions: 0,
    roles: {},
  };
}

/**
 * The caches with tRPC's own helpers, over a link that answers each call
 * with what `answer` returns for its path (by default: never).
 */
function testCache(answer: (path: string) => Promise<unknown> = () => new Promise(() => {})): Cache {
  const link: TRPCLink<PneumaticRouter> =
    () =>
    ({ op }) =>
      observable((observer) => {
        answer(op.path).then(
          (data) => {
            observer.next({ result: { type: 'data', data } });
            observer.complete();
          },
          (error: unknown) => observer.error(error as never),
        );
      });
  const queryClient = new QueryClient();
  return {
    queryClient,
    utils: createTRPCQueryUtils({ queryClient, client: trpc.createClient({ links: [link] }) }),
  };
}

const markers = () => new ReadMarkers({ send: async () => {} });
const history = historyInput(CONVERSATION);

describe('receiveMessage', () => {
  it('survives a refetch that read the server before the message existed', async () => {
    // Refetches are in flight, with what they read before message 2 was stored...
    let answer!: (page: MessagePage) => void;
    let listAnswer!: (list: ConversationListItem[]) => void;
    const cache = testCache(
      (path) =>
        new Promise((resolve) => {
          if (path === 'messages.list') answer = resolve;
          else if (path === 'conversations.list') listAnswer = resolve;
        }),
    );
    const { utils } = cache;
    const initial: MessagePages = {
      pages: [{ messages: [message(1)], next_cursor: null }],
      pageParams: [null],
    };
    utils.messages.list.setInfiniteData(history, initial);
    utils.conversations.list.setData(undefined, [listItem(1)]);
    const refetch = utils.messages.list.fetchInfinite(history, {
      initialCursor: null,
      getNextPageParam: (page) => page.next_cursor,
    });
    const listRefetch = utils.conversations.list.fetch();
    // ...when message 2 arrives live...
    receiveMessage(cache, message(2), ME, markers());
    // ...and then the stale answers land.
    answer({ messages: [message(1)], next_cursor: null });
    listAnswer([listItem(1)]);
    await Promise.all([refetch, listRefetch]);

    expect(flattenPages(utils.messages.list.getInfiniteData(history)).map((m) => m.seq)).toEqual([1, 2]);
    expect(utils.conversations.list.getData()?.[0]?.last_seq).toBe(2);
  });

  it('marks the list stale when the message is for a conversation it does not have', () => {
    const cache = testCache();
    const { utils, queryClient } = cache;
    utils.conversations.list.setData(undefined, [listItem(1)]);
    receiveMessage(cache, { ...message(1), conversation_id: 'unknown' }, ME, markers());
    const listState = () =>
      queryClient
        .getQueryCache()
        .findAll({ predicate: (q) => JSON.stringify(q.queryKey).includes('"conversations","list"') })[0]
        ?.state;
    expect(listState()?.isInvalidated).toBe(true);
    receiveMessage(cache, message(2), ME, markers());
    expect(utils.conversations.list.getData()?.[0]?.last_seq).toBe(2);
  });
});

describe('receiveConversation', () => {
  it('drops a conversation I am no longer in, with its history', () => {
    const cache = testCache();
    const { utils } = cache;
    utils.conversations.list.setData(undefined, [listItem(1)]);
    utils.messages.list.setInfiniteData(history, {
      pages: [{ messages: [message(1)], next_cursor: null }],
      pageParams: [null],
    });
    const { last_read_seq: _r, unread_count: _u, read_seqs: _s, ...conversation } = listItem(2);
    receiveConversation(cache, { ...conversation, members: [BOB] }, ME);
    expect(utils.conversations.list.getData()).toEqual([]);
    expect(utils.messages.list.getInfiniteData(history)).toBeUndefined();
  });
});

describe('receiveRead', () => {
  it('clears my unread count when I read on another device', () => {
    const cache = testCache();
    const readMarkers = markers();
    cache.utils.conversations.list.setData(undefined, [listItem(3)]);
    receiveRead(cache, { conversation_id: CONVERSATION, user_id: ME, last_read_seq: 3 }, ME, readMarkers);
    expect(cache.utils.conversations.list.getData()?.[0]).toMatchObject({
      last_read_seq: 3,
      unread_count: 0,
    });
    expect(readMarkers.get()[CONVERSATION]).toBe(3);
  });
});

describe('receivePresence and receiveUser', () => {
  const bob: KnownPerson = { id: BOB, username: 'bob', full_name: null, online: false, deleted: false };

  it('turns the dot on and off in lookups by id and in directory pages', () => {
    const cache = testCache();
    const { utils } = cache;
    utils.users.get.setData({ ids: [BOB] }, [bob]);
    const search = { query: 'bo', limit: 30 };
    utils.users.list.setInfiniteData(search, {
      pages: [{ users: [{ id: BOB, username: 'bob', full_name: null, online: false }], next_cursor: null }],
      pageParams: [null],
    });
    receivePresence(cache, BOB, true, ME);
    expect(utils.users.get.getData({ ids: [BOB] })?.[0]?.online).toBe(true);
    expect(utils.users.list.getInfiniteData(search)?.pages[0]?.users[0]?.online).toBe(true);
    receivePresence(cache, 'someone-new', true, ME);
    expect(utils.users.get.getData({ ids: [BOB] })).toHaveLength(1);
  });

  it('renames a contact everywhere, and me in auth.me', () => {
    const cache = testCache();
    const { utils } = cache;
    utils.users.get.setData({ ids: [BOB] }, [bob]);
    receiveUser(cache, { id: BOB, username: 'bob', full_name: 'Bob Renamed' }, ME);
    expect(utils.users.get.getData({ ids: [BOB] })?.[0]).toMatchObject({
      full_name: 'Bob Renamed',
      online: false,
    });
    utils.auth.me.setData(undefined, { id: ME, username: 'me', full_name: null });
    receiveUser(cache, { id: ME, username: 'me', full_name: 'Me Myself' }, ME);
    expect(utils.auth.me.getData()?.full_name).toBe('Me Myself');
  });
});
