import { displayName } from './format.ts';
import type { Message, User } from './types.ts';

function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? 'someone';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * A system line in words, with today's names and "you" for me: "You added
 * Bob Builder", "Carol Danvers left", "Alice renamed the group to “Hiking”",
 * "Alice removed you", "You made Bob Builder an admin".
 * Falls back to the text the server stored, which names people as they were.
 */
export function describeSystemLine(
  message: Pick<Message, 'sender_id' | 'system' | 'content'>,
  myId: string,
  users: ReadonlyMap<string, Pick<User, 'username' | 'full_name'>>,
): string {
  const system = message.system;
  if (!system) return message.content;
  // Someone the people list does not know yet: the stored text has their name.
  const ids = [message.sender_id, ...(system.user_ids ?? [])];
  if (ids.some((id) => id !== myId && !users.has(id))) return message.content;
  const name = (id: string, capital: boolean) =>
    id === myId ? (capital ? 'You' : 'you') : displayName(users.get(id));
  const actor = name(message.sender_id, true);
  const subjects = (system.user_ids ?? []).map((id) => name(id, false));
  switch (system.action) {
    case 'added':
      return subjects.length > 0 ? `${actor} added ${joinNames(subjects)}` : message.content;
    case 'left': {
      const leavers = system.user_ids?.length ? system.user_ids : [message.sender_id];
      const left = `${joinNames(leavers.map((id, i) => name(id, i === 0)))} left`;
      if (!system.owner_id) return left;
      if (system.owner_id !== myId && !users.has(system.owner_id)) return message.content;
      return `${left}; ${name(system.owner_id, false)} now ${system.owner_id === myId ? 'own' : 'owns'} the group`;
    }
    case 'removed':
      return subjects.length > 0 ? `${actor} removed ${joinNames(subjects)}` : message.content;
    case 'role_changed':
      return subjects.length > 0
        ? `${actor} made ${joinNames(subjects)} ${system.role === 'admin' ? 'an admin' : 'a member'}`
        : message.content;
    case 'renamed':
      return system.title ? `${actor} renamed the group to “${system.title}”` : message.content;
    default:
      return message.content;
  }
}
