import {
  type ConnectionState,
  isNetworkFailure,
  newMessageId,
  type PneumaticApi,
  type PneumaticClient,
} from '@pneumatic/client';
import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';
import { queryKeys, receiveMessage } from './lib/cache.ts';
import { describeError } from './lib/errors.ts';
import type { Outbox } from './lib/outbox.ts';
import type { ReadMarkers } from './lib/read-markers.ts';
import type { User } from './lib/types.ts';

export interface Chat {
  /** The SDK client: its login, live events, sending. */
  client: PneumaticClient;
  /** Every procedure, typed (`client.api`). */
  api: PneumaticApi;
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
  const { api } = useChat();
  return useQuery({
    queryKey: queryKeys.me,
    queryFn: () => api.auth.me.query(),
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** Everyone but me, by id. */
export function useUsers(): { users: User[]; byId: ReadonlyMap<string, User>; isPending: boolean } {
  const { api } = useChat();
  const query = useQuery({ queryKey: queryKeys.users, queryFn: () => api.users.list.query() });
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
  const { api } = useChat();
  return useQuery({ queryKey: queryKeys.conversations, queryFn: () => api.conversations.list.query() });
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
    // Tried again with the same message_id on network failures: the server stores it once.
    const message = await chat.client.sendMessage(pending.conversation_id, pending.content, {
      messageId: pending.message_id,
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
