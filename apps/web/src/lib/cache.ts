import type { QueryClient, QueryKey } from '@tanstack/react-query';
import {
  applyMessage,
  applyMessageUpdate,
  applyMute,
  applyRead,
  removeConversation,
  upsertConversation,
} from './conversation-list.ts';
import { addMessage, type MessagePages, replaceMessage } from './message-pages.ts';
import type { ReadMarkers } from './read-markers.ts';
import type { Conversation, ConversationListItem, Message, Person, ReadEvent } from './types.ts';

/** The react-query keys, named after the procedures that fill them. */
export const queryKeys = {
  me: ['auth.me'],
  users: ['users.list'],
  conversations: ['conversations.list'],
  messages: (conversationId: string) => ['messages.list', conversationId],
  /** Every search; add the words for one. */
  search: ['messages.search'],
} as const;

/**
 * Applies `update` to the cached data now, and once more when a fetch that
 * is in flight lands: that fetch may have read the server before the change
 * and would otherwise overwrite it.
 */
function updateCache<T>(
  queryClient: QueryClient,
  queryKey: QueryKey,
  update: (data: T | undefined) => T | undefined,
) {
  queryClient.setQueryData<T>(queryKey, update);
  if (queryClient.isFetching({ queryKey, exact: true }) === 0) return;
  const query = queryClient.getQueryCache().find({ queryKey, exact: true });
  const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
    if (event.query !== query) return;
    if (event.type === 'removed') unsubscribe();
    else if (event.query.state.fetchStatus === 'idle') {
      unsubscribe();
      queryClient.setQueryData<T>(queryKey, update);
    }
  });
}

/** Refetches the people list when `ids` holds someone it does not know (they signed up since). */
function refreshUsersIfUnknown(queryClient: QueryClient, ids: readonly string[], myId: string): void {
  const users = queryClient.getQueryData<Person[]>(queryKeys.users);
  if (!users) return;
  const known = new Set(users.map((u) => u.id));
  if (ids.some((id) => id !== myId && !known.has(id))) {
    void queryClient.invalidateQueries({ queryKey: queryKeys.users });
  }
}

/** Puts a stored message (live event or the answer to my send) into the history and the list. */
export function receiveMessage(
  queryClient: QueryClient,
  message: Message,
  myId: string,
  readMarkers: ReadMarkers,
): void {
  updateCache<MessagePages>(queryClient, queryKeys.messages(message.conversation_id), (data) =>
    addMessage(data, message),
  );
  let known = true;
  updateCache<ConversationListItem[]>(queryClient, queryKeys.conversations, (list) => {
    const result = applyMessage(list, message);
    known &&= result.known;
    return result.list;
  });
  if (!known) void queryClient.invalidateQueries({ queryKey: queryKeys.conversations });
  // Sending means having read up to there, from whichever device it was sent.
  if (message.sender_id === myId) readMarkers.markRead(message.conversation_id, message.seq);
  refreshUsersIfUnknown(queryClient, [message.sender_id], myId);
}

/** Puts the new state of an edited or deleted message into the history, the list and searches. */
export function receiveMessageUpdate(queryClient: QueryClient, message: Message): void {
  updateCache<MessagePages>(queryClient, queryKeys.messages(message.conversation_id), (data) =>
    replaceMessage(data, message),
  );
  updateCache<ConversationListItem[]>(queryClient, queryKeys.conversations, (list) =>
    applyMessageUpdate(list, message),
  );
  void queryClient.invalidateQueries({ queryKey: queryKeys.search });
}

/**
 * Adds or refreshes a conversation in the list (created, renamed, members
 * changed, or returned by a call); one I am no longer a member of leaves the
 * list, with its history.
 */
export function receiveConversation(
  queryClient: QueryClient,
  conversation: Conversation,
  myId: string,
): void {
  if (!conversation.members.includes(myId)) {
    forgetConversation(queryClient, conversation.id);
    return;
  }
  updateCache<ConversationListItem[]>(queryClient, queryKeys.conversations, (list) =>
    upsertConversation(list, conversation),
  );
  refreshUsersIfUnknown(queryClient, conversation.members, myId);
}

/** Drops a conversation I left from the list and its history from the cache. */
export function forgetConversation(queryClient: QueryClient, conversationId: string): void {
  updateCache<ConversationListItem[]>(queryClient, queryKeys.conversations, (list) =>
    removeConversation(list, conversationId),
  );
  queryClient.removeQueries({ queryKey: queryKeys.messages(conversationId) });
}

/** A member's read position moved: receipts, or my unread count when I read elsewhere. */
export function receiveRead(
  queryClient: QueryClient,
  event: Pick<ReadEvent, 'conversation_id' | 'user_id' | 'last_read_seq'>,
  myId: string,
  readMarkers: ReadMarkers,
): void {
  if (event.user_id === myId) readMarkers.serverRead(event.conversation_id, event.last_read_seq);
  updateCache<ConversationListItem[]>(queryClient, queryKeys.conversations, (list) =>
    applyRead(list, event, myId),
  );
}

/** Someone came online or went offline; someone the people list lacks makes it refetch. */
export function receivePresence(
  queryClient: QueryClient,
  userId: string,
  online: boolean,
  myId: string,
): void {
  if (userId === myId) return;
  let known = false;
  updateCache<Person[]>(queryClient, queryKeys.users, (users) =>
    users?.map((user) => {
      if (user.id !== userId) return user;
      known = true;
      return user.online === online ? user : { ...user, online };
    }),
  );
  if (!known) void queryClient.invalidateQueries({ queryKey: queryKeys.users });
}

/** I muted or unmuted a conversation (on this device or another: the server tells them all). */
export function receiveMute(queryClient: QueryClient, conversationId: string, muted: boolean): void {
  updateCache<ConversationListItem[]>(queryClient, queryKeys.conversations, (list) =>
    applyMute(list, conversationId, muted),
  );
}
