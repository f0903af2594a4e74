import { type InfiniteData, type QueryClient, type QueryKey, useQueryClient } from '@tanstack/react-query';
import { getQueryKey } from '@trpc/react-query';
import { useMemo } from 'react';
import { historyInput, type TrpcUtils, trpc } from '../trpc.ts';
import {
  applyMessage,
  applyMessageUpdate,
  applyMute,
  applyRead,
  removeConversation,
  upsertConversation,
} from './conversation-list.ts';
import { addMessage, applyQuotesOf, applyReactions, replaceMessage } from './message-pages.ts';
import type { ReadMarkers } from './read-markers.ts';
import type {
  Conversation,
  KnownPerson,
  Message,
  Person,
  ReactionsChange,
  ReadEvent,
  User,
  UserPage,
} from './types.ts';

/**
 * What writes to the caches need: tRPC's typed helpers for each procedure's
 * cache entry, and the QueryClient under them (to see a fetch in flight).
 */
export interface Cache {
  utils: TrpcUtils;
  queryClient: QueryClient;
}

/** The caches of this login, for components and hooks. */
export function useCache(): Cache {
  const utils = trpc.useUtils();
  const queryClient = useQueryClient();
  return useMemo(() => ({ utils, queryClient }), [utils, queryClient]);
}

/** tRPC's keys for the entries written here, to watch their fetches. */
const keys = {
  history: (conversationId: string) =>
    getQueryKey(trpc.messages.list, historyInput(conversationId), 'infinite'),
  conversations: () => getQueryKey(trpc.conversations.list, undefined, 'query'),
  /** Every people lookup by id, whatever the ids. */
  peopleLookups: () => getQueryKey(trpc.users.get, undefined, 'query'),
  /** Every page of the directory, whatever the search. */
  directory: () => getQueryKey(trpc.users.list, undefined, 'infinite'),
};

/**
 * Runs `write` (a write to the entry under `queryKey`) now, and once more
 * when a fetch of that entry in flight lands: that fetch may have read the
 * server before the change and would otherwise overwrite it.
 */
function writeLasting(queryClient: QueryClient, queryKey: QueryKey, write: () => void): void {
  write();
  if (queryClient.isFetching({ queryKey, exact: true }) === 0) return;
  const query = queryClient.getQueryCache().find({ queryKey, exact: true });
  const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
    if (event.query !== query) return;
    if (event.type === 'removed') unsubscribe();
    else if (event.query.state.fetchStatus === 'idle') {
      unsubscribe();
      write();
    }
  });
}

/** Puts a stored message (live event or the answer to my send) into the history and the list. */
export function receiveMessage(cache: Cache, message: Message, myId: string, readMarkers: ReadMarkers): void {
  const { utils, queryClient } = cache;
  writeLasting(queryClient, keys.history(message.conversation_id), () =>
    utils.messages.list.setInfiniteData(historyInput(message.conversation_id), (data) =>
      addMessage(data, message),
    ),
  );
  let known = true;
  writeLasting(queryClient, keys.conversations(), () =>
    utils.conversations.list.setData(undefined, (list) => {
      const result = applyMessage(list, message, myId);
      known &&= result.known;
      return result.list;
    }),
  );
  if (!known) void utils.conversations.list.invalidate();
  // Sending means having read up to there, from whichever device it was sent.
  if (message.sender_id === myId) readMarkers.markRead(message.conversation_id, message.seq);
}

/**
 * Puts the new state of an edited or deleted message into the history (its
 * quotes in replies too), the list and searches. When it mentions me, or
 * did, my unread mentions are counted again.
 */
export function receiveMessageUpdate({ utils, queryClient }: Cache, message: Message, myId: string): void {
  const input = historyInput(message.conversation_id);
  const before = utils.messages.list
    .getInfiniteData(input)
    ?.pages.flatMap((page) => page.messages)
    .find((m) => m.id === message.id);
  writeLasting(queryClient, keys.history(message.conversation_id), () =>
    utils.messages.list.setInfiniteData(input, (data) =>
      applyQuotesOf(replaceMessage(data, message), message),
    ),
  );
  if (message.mentions.includes(myId) || before?.mentions.includes(myId))
    void utils.conversations.list.invalidate();
  writeLasting(queryClient, keys.conversations(), () =>
    utils.conversations.list.setData(undefined, (list) => applyMessageUpdate(list, message)),
  );
  void utils.messages.search.invalidate();
}

/**
 * Adds or refreshes a conversation in the list (created, renamed, members
 * changed, or returned by a call); one I am no longer a member of leaves the
 * list, with its history.
 */
export function receiveConversation(cache: Cache, conversation: Conversation, myId: string): void {
  if (!conversation.members.includes(myId)) {
    forgetConversation(cache, conversation.id);
    return;
  }
  const { utils, queryClient } = cache;
  writeLasting(queryClient, keys.conversations(), () =>
    utils.conversations.list.setData(undefined, (list) => upsertConversation(list, conversation)),
  );
}

/** Drops a conversation I left from the list and its history from the cache. */
export function forgetConversation({ utils, queryClient }: Cache, conversationId: string): void {
  writeLasting(queryClient, keys.conversations(), () =>
    utils.conversations.list.setData(undefined, (list) => removeConversation(list, conversationId)),
  );
  queryClient.removeQueries({ queryKey: keys.history(conversationId) });
}

/** A member's read position moved: receipts, or my unread count when I read elsewhere. */
export function receiveRead(
  { utils, queryClient }: Cache,
  event: Pick<ReadEvent, 'conversation_id' | 'user_id' | 'last_read_seq'>,
  myId: string,
  readMarkers: ReadMarkers,
): void {
  if (event.user_id === myId) readMarkers.serverRead(event.conversation_id, event.last_read_seq);
  writeLasting(queryClient, keys.conversations(), () =>
    utils.conversations.list.setData(undefined, (list) => applyRead(list, event, myId)),
  );
  // Read part of the way: which mentions are still unread, only the server can count.
  const item = utils.conversations.list.getData()?.find((c) => c.id === event.conversation_id);
  if (event.user_id === myId && item && item.unread_mentions > 0) void utils.conversations.list.invalidate();
}

/**
 * Reaction events seen per message. An answer to my reaction is applied only
 * if no event for that message came while it was on its way: an event is at
 * least as new (it may be mine, or a later one), and an answer over HTTP can
 * arrive after the socket brought a later state.
 */
const reactionEvents = new Map<string, number>();

/** How many reaction events for the message came so far; compare with {@link receiveReactionAnswer}. */
export function reactionEventsOf(messageId: string): number {
  return reactionEvents.get(messageId) ?? 0;
}

/** My reaction's answer, unless a live event for the message came since `eventsBefore` (see above). */
export function receiveReactionAnswer(cache: Cache, change: ReactionsChange, eventsBefore: number): void {
  if (reactionEventsOf(change.message_id) === eventsBefore) receiveReactions(cache, change);
}

/** A `reaction` event: anyone's, live. */
export function receiveReactionEvent(cache: Cache, change: ReactionsChange): void {
  reactionEvents.set(change.message_id, reactionEventsOf(change.message_id) + 1);
  receiveReactions(cache, change);
}

function receiveReactions({ utils, queryClient }: Cache, change: ReactionsChange): void {
  writeLasting(queryClient, keys.history(change.conversation_id), () =>
    utils.messages.list.setInfiniteData(historyInput(change.conversation_id), (data) =>
      applyReactions(data, change),
    ),
  );
}

/** Applies `change` to a person wherever the caches hold them: lookups by id and directory pages. */
function updatePerson(
  { queryClient }: Cache,
  userId: string,
  change: <T extends Person>(person: T) => T,
): void {
  const apply = <T extends Person>(people: T[]) =>
    people.some((p) => p.id === userId) ? people.map((p) => (p.id === userId ? change(p) : p)) : people;
  queryClient.setQueriesData<KnownPerson[]>({ queryKey: keys.peopleLookups() }, (people) =>
    people ? apply(people) : people,
  );
  queryClient.setQueriesData<InfiniteData<UserPage>>({ queryKey: keys.directory() }, (data) =>
    data ? { ...data, pages: data.pages.map((page) => ({ ...page, users: apply(page.users) })) } : data,
  );
}

/** Someone came online or went offline. */
export function receivePresence(cache: Cache, userId: string, online: boolean, myId: string): void {
  if (userId === myId) return;
  updatePerson(cache, userId, (person) => (person.online === online ? person : { ...person, online }));
}

/** Someone (or I) changed their display name, or their account was deleted: the new public details. */
export function receiveUser(cache: Cache, user: User, myId: string): void {
  if (user.id === myId) {
    cache.utils.auth.me.setData(undefined, (me) => (me ? { ...me, ...user } : me));
    return;
  }
  updatePerson(cache, user.id, (person) => ({
    ...person,
    username: user.username,
    full_name: user.full_name,
  }));
}

/** A person by id from whatever the caches hold (outside React: notifications). */
export function knownPeople({ queryClient }: Cache): Map<string, Person> {
  const people = new Map<string, Person>();
  for (const [, data] of queryClient.getQueriesData<KnownPerson[]>({ queryKey: keys.peopleLookups() }))
    for (const person of data ?? []) people.set(person.id, person);
  return people;
}

/** I muted or unmuted a conversation (on this device or another: the server tells them all). */
export function receiveMute({ utils, queryClient }: Cache, conversationId: string, muted: boolean): void {
  writeLasting(queryClient, keys.conversations(), () =>
    utils.conversations.list.setData(undefined, (list) => applyMute(list, conversationId, muted)),
  );
}
