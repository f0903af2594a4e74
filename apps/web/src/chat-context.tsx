import {
  type ConnectionState,
  isNetworkFailure,
  newMessageId,
  type PneumaticApi,
  type PneumaticClient,
} from '@pneumatic/client';
import { createContext, useCallback, useContext, useMemo, useRef, useSyncExternalStore } from 'react';
import { type Cache, receiveMessage, receiveMessageUpdate, useCache } from './lib/cache.ts';
import { describeError } from './lib/errors.ts';
import type { Outbox } from './lib/outbox.ts';
import type { ReadMarkers } from './lib/read-markers.ts';
import type { Attachment, Message, Person } from './lib/types.ts';
import type { TypingInConversation, TypingState } from './lib/typing.ts';
import { trpc } from './trpc.ts';

export interface Chat {
  /** The SDK client: its login, live events, sending. */
  client: PneumaticClient;
  /** Every procedure, typed (`client.api`). */
  api: PneumaticApi;
  connection: ConnectionState;
  outbox: Outbox;
  readMarkers: ReadMarkers;
  /** Who is typing where (never me). */
  typing: TypingState;
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
  return trpc.auth.me.useQuery(undefined, { staleTime: Number.POSITIVE_INFINITY });
}

/** How often the people list is read again: presence of people I share no conversation with, and newcomers. */
const PEOPLE_REFRESH_MS = 30_000;

/**
 * Everyone but me, by id, with whether they are online. Presence of people
 * I share a conversation with is live (`presence` events); everyone else's
 * is as of the last fetch, every half minute. While my own connection is
 * down nobody shows online: I cannot know, and the list is fetched again on
 * reconnect.
 */
export function useUsers(): { users: Person[]; byId: ReadonlyMap<string, Person>; isPending: boolean } {
  const query = trpc.users.list.useQuery(undefined, { refetchInterval: PEOPLE_REFRESH_MS });
  const connected = useConnectionStatus() === 'online';
  const data = query.data;
  return useMemo(() => {
    const users = (data ?? []).map((u) => (u.online && !connected ? { ...u, online: false } : u));
    return { users, byId: new Map(users.map((u) => [u.id, u])), isPending: query.isPending };
  }, [data, connected, query.isPending]);
}

export function useConversations() {
  return trpc.conversations.list.useQuery();
}

export function useReadMarkers() {
  const { readMarkers } = useChat();
  return useSyncExternalStore(readMarkers.subscribe, readMarkers.get);
}

const NO_ONE: TypingInConversation = new Map();

/** Who is typing in a conversation now (user id → expiry); never me. */
export function useTyping(conversationId: string): TypingInConversation {
  const { typing } = useChat();
  const getSnapshot = useCallback(() => typing.get().get(conversationId) ?? NO_ONE, [typing, conversationId]);
  return useSyncExternalStore(typing.subscribe, getSnapshot);
}

export function useOutbox() {
  const { outbox } = useChat();
  return useSyncExternalStore(outbox.subscribe, outbox.get);
}

export function useConnectionStatus() {
  const { connection } = useChat();
  return useSyncExternalStore(connection.subscribe, connection.get);
}

async function deliver(chat: Chat, cache: Cache, messageId: string): Promise<void> {
  const pending = chat.outbox.find(messageId);
  if (!pending) return;
  chat.outbox.patch(messageId, { status: 'sending', error: undefined });
  try {
    // Tried again with the same message_id on network failures: the server stores it once.
    const message = await chat.client.sendMessage(pending.conversation_id, pending.content, {
      messageId: pending.message_id,
      attachmentIds: pending.attachments?.map((file) => file.id),
    });
    receiveMessage(cache, message, chat.myId, chat.readMarkers);
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
  const cache = useCache();
  const send = useCallback(
    (conversationId: string, content: string, attachments: Attachment[] = []) => {
      const messageId = newMessageId();
      chat.outbox.put({
        message_id: messageId,
        conversation_id: conversationId,
        content,
        attachments,
        created_at: new Date().toISOString(),
        status: 'sending',
      });
      void deliver(chat, cache, messageId);
    },
    [chat, cache],
  );
  const retry = useCallback((messageId: string) => void deliver(chat, cache, messageId), [chat, cache]);
  const discard = useCallback((messageId: string) => chat.outbox.remove(messageId), [chat]);
  return { send, retry, discard };
}

/** Edits and deletions of my own messages; the answer goes into the caches at once. */
export function useMessageActions() {
  const cache = useCache();
  const { mutateAsync: edit } = trpc.messages.edit.useMutation();
  const { mutateAsync: remove } = trpc.messages.delete.useMutation();
  return useMemo(
    () => ({
      async edit(message: Message, content: string): Promise<void> {
        receiveMessageUpdate(cache, await edit({ id: message.id, content }));
      },
      async remove(message: Message): Promise<void> {
        receiveMessageUpdate(cache, await remove({ id: message.id }));
      },
    }),
    [cache, edit, remove],
  );
}

/**
 * Tells the other members I am typing, as I type: the server shows it for a
 * few seconds and ignores announcements closer than 2.5 s, so this one
 * speaks at most that often (each call also counts against my request
 * budget). Announcements stop with the keystrokes: after a send or when I
 * leave the box, my message or the expiry ends the indicator.
 */
const TYPING_ANNOUNCE_EVERY_MS = 2500;

export function useAnnounceTyping(conversationId: string): (draft: string) => void {
  const { api } = useChat();
  const last = useRef(0);
  return useCallback(
    (draft: string) => {
      const now = Date.now();
      if (!draft.trim() || now - last.current < TYPING_ANNOUNCE_EVERY_MS) return;
      last.current = now;
      api.conversations.typing.mutate({ conversation_id: conversationId }).catch(() => {
        // Only a hint: a lost one is not worth a retry.
      });
    },
    [api, conversationId],
  );
}
