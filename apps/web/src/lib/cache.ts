import type { QueryClient, QueryKey } from '@tanstack/react-query';
import { applyMessage, upsertConversation } from './conversation-list.ts';
import { addMessage, type MessagePages } from './message-pages.ts';
import type { ReadMarkers } from './read-markers.ts';
import type { Conversation, ConversationListItem, Message, User } from './types.ts';

/** The react-query keys, named after the procedures that fill them. */
export const queryKeys = {
  me: ['auth.me'],
  users: ['users.list'],
  conversations: ['conversations.list'],
  messages: (conversationId: string) => ['messages.list', conversationId],
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
  const users = queryClient.getQueryData<User[]>(queryKeys.users);
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

/** Adds or refreshes a conversation in the list (created, or returned by create). */
export function receiveConversation(
  queryClient: QueryClient,
  conversation: Conversation,
  myId: string,
): void {
  updateCache<ConversationListItem[]>(queryClient, queryKeys.conversations, (list) =>
    upsertConversation(list, conversation),
  );
  refreshUsersIfUnknown(queryClient, conversation.members, myId);
}
