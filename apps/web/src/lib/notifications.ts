import type { ConversationListItem, Message } from './types.ts';

/**
 * Where notifications stand on this device, as the control shows it:
 * `ask` (the browser has not been asked: asked on a click, never on load),
 * `on`, `off` (allowed, but turned off on this device), `denied` (the
 * browser blocks them: only its site settings can change that), or
 * `unsupported` (no Notification API).
 */
export type NotificationState = 'ask' | 'on' | 'off' | 'denied' | 'unsupported';

/** The state from the browser's permission (undefined: no API) and this device's own choice. */
export function notificationState(
  permission: NotificationPermission | undefined,
  enabledOnDevice: boolean,
): NotificationState {
  if (permission === undefined) return 'unsupported';
  if (permission === 'denied') return 'denied';
  if (permission === 'default') return 'ask';
  return enabledOnDevice ? 'on' : 'off';
}

export interface NotifyContext {
  myId: string;
  state: NotificationState;
  /** The message's conversation as my list has it; undefined when the list does not have it (yet). */
  conversation: Pick<ConversationListItem, 'muted' | 'last_read_seq'> | undefined;
  /** The conversation open on screen, if any. */
  openConversationId: string | null;
  /** The page is visible and has the focus: what is open is being looked at. */
  pageInView: boolean;
}

/**
 * Whether a message that just arrived deserves a system notification: from
 * someone else, a user's message (not a system line about members), in a
 * conversation I have not muted and have not read this far already (on
 * another device), and not in front of my eyes: another conversation is
 * open, or the tab is hidden or the window in the background.
 */
export function shouldNotify(
  message: Pick<Message, 'conversation_id' | 'sender_id' | 'seq' | 'kind' | 'deleted_at'>,
  context: NotifyContext,
): boolean {
  if (context.state !== 'on') return false;
  if (message.sender_id === context.myId || message.kind !== 'user' || message.deleted_at) return false;
  const { conversation } = context;
  if (conversation && (conversation.muted || message.seq <= conversation.last_read_seq)) return false;
  return !(context.pageInView && context.openConversationId === message.conversation_id);
}

/** Longest excerpt of a message in a notification, in characters. */
export const EXCERPT_LENGTH = 120;

/**
 * A short, one-line excerpt of a message's text: whitespace runs (line
 * breaks included) become one space, and a long text is cut at a word
 * where one is near, with an ellipsis. Counted in code points, so an emoji
 * is never cut in half. Plain text: a notification renders no markup.
 */
export function excerpt(text: string, max = EXCERPT_LENGTH): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  if (chars.length <= max) return flat;
  const cut = chars.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > cut.length * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** One tag per conversation: a burst of messages replaces its notification instead of piling up. */
export function notificationTag(conversationId: string): string {
  return `pneumatic:conversation:${conversationId}`;
}

export interface NotificationContent {
  title: string;
  body: string;
  tag: string;
}

/**
 * What a notification says: who wrote (and in which group), and an excerpt
 * of what. `groupName` is null for a 1-on-1, whose name is the sender's.
 */
export function notificationContent(
  message: Pick<Message, 'conversation_id' | 'content'>,
  senderName: string,
  groupName: string | null,
): NotificationContent {
  return {
    title: groupName ? `${senderName} in ${groupName}` : senderName,
    body: excerpt(message.content),
    tag: notificationTag(message.conversation_id),
  };
}
