import {
  type ConnectionState,
  isNetworkFailure,
  newMessageId,
  type PneumaticApi,
  type PneumaticClient,
} from '@pneumatic/client';
import { createContext, useCallback, useContext, useMemo, useRef, useSyncExternalStore } from 'react';
import {
  type Cache,
  reactionEventsOf,
  receiveMessage,
  receiveMessageUpdate,
  receiveReactionAnswer,
  useCache,
} from './lib/cache.ts';
import { describeError } from './lib/errors.ts';
import { quotedText } from './lib/message-pages.ts';
import type { Outbox } from './lib/outbox.ts';
import type { ReadMarkers } from './lib/read-markers.ts';
import type { Attachment, Message, Person } from './lib/types.ts';
import type { TypingInConversation, TypingState } from './lib/typing.ts';
import { useDebounced } from './lib/use-debounced.ts';
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

/** How many people one `users.get` asks for. */
const PEOPLE_PER_LOOKUP = 100;

const NO_IDS: readonly string[] = [];

/**
 * The people whose names this login shows, by id, with whether they are
 * online: the members of my conversations, and `extraIds` (senders who have
 * since left). Looked up by id (`users.get`), never the whole directory;
 * presence and names stay live through `presence` and `user` events (the
 * server sends both to contacts). While my own connection is down nobody
 * shows online: I cannot know, and the lookups run again on reconnect.
 */
export function useUsers(extraIds: readonly string[] = NO_IDS): {
  users: Person[];
  byId: ReadonlyMap<string, Person>;
  isPending: boolean;
} {
  const { myId } = useChat();
  const conversations = useConversations();
  const ids = useMemo(() => {
    const wanted = new Set<string>(extraIds);
    for (const c of conversations.data ?? []) for (const id of c.members) wanted.add(id);
    wanted.delete(myId);
    return [...wanted].sort();
  }, [conversations.data, extraIds, myId]);
  const lookups = trpc.useQueries((t) =>
    chunked(ids, PEOPLE_PER_LOOKUP).map((chunk) =>
      t.users.get({ ids: chunk }, { staleTime: Number.POSITIVE_INFINITY }),
    ),
  );
  const connected = useConnectionStatus() === 'online';
  const pending = conversations.isPending || lookups.some((q) => q.isPending);
  // Each answer's time stamp changes with it (fetched, or written by a live event): it stands for the answers.
  const answered = lookups.map((q) => q.dataUpdatedAt).join();
  const latest = useRef(lookups);
  latest.current = lookups;
  return useMemo(() => {
    const users = latest.current
      .flatMap((q) => q.data ?? [])
      .map((u) => (u.online && !connected ? { ...u, online: false } : u))
      .sort((a, b) => a.username.localeCompare(b.username));
    return { users, byId: new Map(users.map((u) => [u.id, u])), isPending: pending };
  }, [answered, connected, pending]);
}

function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

/** How long the people search waits for typing to pause. */
const SEARCH_DEBOUNCE_MS = 250;

/** What is typed into a people search, once typing pauses. */
export function useSearchTerm(typed: string): string {
  return useDebounced(typed, SEARCH_DEBOUNCE_MS);
}

/** People per page of the directory. */
export const PEOPLE_PAGE_SIZE = 30;

/**
 * The directory: everyone but me whose username or name contains `query`,
 * searched on the server a page at a time (`fetchNextPage` for more).
 */
export function useDirectory(query: string, options: { enabled?: boolean } = {}) {
  const connected = useConnectionStatus() === 'online';
  const result = trpc.users.list.useInfiniteQuery(
    { query: query.trim() || undefined, limit: PEOPLE_PAGE_SIZE },
    { getNextPageParam: (page) => page.next_cursor, enabled: options.enabled },
  );
  const pages = result.data?.pages;
  const people = useMemo(
    () =>
      (pages ?? [])
        .flatMap((page) => page.users)
        .map((u) => (u.online && !connected ? { ...u, online: false } : u)),
    [pages, connected],
  );
  return { ...result, people };
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
      replyTo: pending.reply_to?.id,
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
    (
      conversationId: string,
      content: string,
      { attachments = [], replyTo = null }: { attachments?: Attachment[]; replyTo?: Message | null } = {},
    ) => {
      const messageId = newMessageId();
      chat.outbox.put({
        message_id: messageId,
        conversation_id: conversationId,
        content,
        attachments,
        created_at: new Date().toISOString(),
        status: 'sending',
        reply_to: replyTo && {
          id: replyTo.id,
          sender_id: replyTo.sender_id,
          excerpt: quotedText(replyTo),
          deleted: false,
        },
      });
      void deliver(chat, cache, messageId);
    },
    [chat, cache],
  );
  const retry = useCallback((messageId: string) => void deliver(chat, cache, messageId), [chat, cache]);
  const discard = useCallback((messageId: string) => chat.outbox.remove(messageId), [chat]);
  return { send, retry, discard };
}

/** Edits and deletions of my own messages, and my reactions; the answer goes into the caches at once. */
export function useMessageActions() {
  const cache = useCache();
  const { myId } = useChat();
  const { mutateAsync: edit } = trpc.messages.edit.useMutation();
  const { mutateAsync: remove } = trpc.messages.delete.useMutation();
  const { mutateAsync: react } = trpc.messages.react.useMutation();
  return useMemo(
    () => ({
      async edit(message: Message, content: string): Promise<void> {
        receiveMessageUpdate(cache, await edit({ id: message.id, content }), myId);
      },
      async remove(message: Message): Promise<void> {
        receiveMessageUpdate(cache, await remove({ id: message.id }), myId);
      },
      /** Puts my `emoji` on the message (`on`) or takes it back. */
      async react(message: Message, emoji: string, on: boolean): Promise<void> {
        const eventsBefore = reactionEventsOf(message.id);
        receiveReactionAnswer(cache, await react({ id: message.id, emoji, on }), eventsBefore);
      },
    }),
    [cache, myId, edit, remove, react],
  );
}

/**
 * Tells the other members I am typing, as I type: the server shows it for a
 * few seconds and ignores announcements closer than 2 s, so this one
 * speaks every 2.5 s at most, half a second to spare for network jitter
 * (each call also counts against my request budget). Announcements stop with the keystrokes: after a send or when I
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
