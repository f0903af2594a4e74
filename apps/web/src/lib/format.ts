import type { ConversationListItem, User } from './types.ts';

/** How a person is called in the app: full name, else username. */
export function displayName(user: Pick<User, 'username' | 'full_name'> | undefined): string {
  if (!user) return 'Someone';
  return user.full_name?.trim() || user.username;
}

/** One or two letters for an avatar. */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? [words[0]!, words.at(-1)!] : words;
  return (
    letters
      .map((word) => [...word][0] ?? '')
      .join('')
      .toUpperCase() || '?'
  );
}

/** Number of avatar colours defined in the stylesheet (`.avatar[data-hue="0..7"]`). */
const AVATAR_HUES = 8;

/** A stable avatar colour for an id. */
export function avatarHue(id: string): number {
  let hash = 0;
  for (let i = 0; i < id.length; i++) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(hash) % AVATAR_HUES;
}

/** The title a conversation shows: the other person's name in a 1-on-1, the title of a group. */
export function conversationName(
  conversation: Pick<ConversationListItem, 'kind' | 'title' | 'members'>,
  myId: string,
  users: ReadonlyMap<string, User>,
): string {
  if (conversation.kind === 'direct') {
    const otherId = conversation.members.find((id) => id !== myId);
    const other = otherId ? users.get(otherId) : undefined;
    return other ? displayName(other) : conversation.title || 'Direct message';
  }
  return conversation.title || 'Untitled group';
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const longDayFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

function startOfDay(date: Date): number {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

function daysBetween(earlier: Date, later: Date): number {
  return Math.round((startOfDay(later) - startOfDay(earlier)) / 86_400_000);
}

export function isSameDay(a: string, b: string): boolean {
  return startOfDay(new Date(a)) === startOfDay(new Date(b));
}

/** 14:05 */
export function formatTime(iso: string): string {
  return timeFormat.format(new Date(iso));
}

/** For a tooltip: Friday, 27 November 2026 at 14:05 */
export function formatFull(iso: string): string {
  return fullFormat.format(new Date(iso));
}

/** For the conversation list: the time today, the weekday this week, else the date. */
export function formatListTime(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const days = daysBetween(date, now);
  if (days <= 0) return timeFormat.format(date);
  if (days === 1) return 'Yesterday';
  if (days < 7) return weekdayFormat.format(date);
  return shortDateFormat.format(date);
}

/** For a day separator: Today, Yesterday, Monday 23 November, or with the year when not this year. */
export function formatDay(iso: string, now = new Date()): string {
  const date = new Date(iso);
  const days = daysBetween(date, now);
  if (days === 0) return 'Today';
  if (days === 1) return 'Yesterday';
  if (date.getFullYear() === now.getFullYear()) return dayFormat.format(date);
  return longDayFormat.format(date);
}

/** Message content limits, as the server counts: code points after trimming. */
export const MAX_MESSAGE_LENGTH = 4000;

export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** A file size for people: `512 B`, `14 KB`, `2.5 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
