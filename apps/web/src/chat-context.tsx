import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';
import { queryKeys, receiveMessage } from './lib/cache.ts';
import { describeError, isNetworkFailure } from './lib/errors.ts';
import { newMessageId } from './lib/format.ts';
import type { Outbox } from './lib/outbox.ts';
import type { ReadMarkers } from './lib/read-markers.ts';
import type { ApiClient, ConnectionState } from './lib/trpc.ts';
import type { User } from './lib/types.ts';

export interface Chat {
  client: ApiClient;
  connection: ConnectionState;
  outbox: Outbox;
  readMarkers: ReadMarkers;
  /** The signed-in user's id (from the access token; `auth.me` fills in the rest). */
  myId: string;
  logout(): void;
}

const ChatContext = createContext<Chat | null>(null);

export const ChatProvider = ChatContext.Provider;

export function useChat(): Chat {
  const chat = useContext(ChatContext);
  if (!chat) throw new Error('useChat must be used inside <ChatProvider>');
  return chat;
}

export function useMe() {
  const { client } = useChat();
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: () => client.auth.me.query(),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Everyone but me, by id. */
export function useUsers(): { users: User[]; byId: ReadonlyMap<string, User>; isPending: boolean } {
  const { client } = useChat();
  const query = useQuery({ queryKey: queryKeys.users, queryFn: () => client.users.list.query() });
  const users = query.data;
  return useMemo(
    () => ({
      users: users ?? [],
      byId: new Map((users ?? []).map((u) => [u.id, u])),
      isPending: query.isPending,
    }),
    [users, query.isPending],
  );
}

export function useConversations() {
  const { client } = useChat();
  return useQuery({ queryKey: queryKeys.conversations, queryFn: () => client.conversations.list.query() });
}

export function useReadMarkers() {
  const { readMarkers } = useChat();
  return useSyncExternalStore(readMarkers.subscribe, readMarkers.get);
}

export function useOutbox() {
  const { outbox } = useChat();
  return useSyncExternalStore(outbox.subscribe, outbox.get);
}

export function useConnectionStatus() {
  const { connection } = useChat();
  return useSyncExternalStore(connection.subscribe, connection.get);
}

async function deliver(chat: Chat, queryClient: QueryClient, messageId: string): Promise<void> {
  const pending = chat.outbox.find(messageId);
  if (!pending) return;
  chat.outbox.patch(messageId, { status: 'sending', error: undefined });
  try {
    const message = await chat.client.messages.send.mutate({
      message_id: pending.message_id,
      conversation_id: pending.conversation_id,
      content: pending.content,
    });
    receiveMessage(queryClient, message, chat.myId, chat.readMarkers);
    chat.outbox.remove(messageId);
  } catch (error) {
    chat.outbox.patch(messageId, {
      status: 'failed',
      error: isNetworkFailure(error) ? 'no connection' : describeError(error),
    });
  }
}

/**
 * Sending: the message shows at once as pending, and is replaced by the
 * stored one when the server answers. A retry sends the same message_id, so
 * the server stores it once however many attempts reach it.
 */
export function useSendMessage() {
  const chat = useChat();
  const queryClient = useQueryClient();
  const send = useCallback(
    (conversationId: string, content: string) => {
      const messageId = newMessageId();
      chat.outbox.put({
        message_id: messageId,
        conversation_id: conversationId,
        content,
        created_at: new Date().toISOString(),
        status: 'sending',
      });
      void deliver(chat, queryClient, messageId);
    },
    [chat, queryClient],
  );
  const retry = useCallback(
    (messageId: string) => void deliver(chat, queryClient, messageId),
    [chat, queryClient],
  );
  const discard = useCallback((messageId: string) => chat.outbox.remove(messageId), [chat]);
  return { send, retry, discard };
}
