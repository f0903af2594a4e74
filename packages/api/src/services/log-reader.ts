import { conversationsRepository, type Executor, logRepository, messagesRepository } from '@pneumatic/db';
import type { HubOptions } from '../realtime/connection-hub.ts';
import type { LogBusEvent } from '../realtime/event-bus.ts';
import { loadConversation } from './conversations.service.ts';
import { reactionsOf } from './reactions.service.ts';
import { toMessage } from './views.ts';

/**
 * Rebuilds the bus events for log positions [from, to] from the database,
 * for when an announcement went missing.
 */
export async function readLogRange(db: Executor, from: number, to: number): Promise<LogBusEvent[]> {
  const entries = await logRepository.readLogRange(db, from, to);
  const members = new Map<string, Promise<string[]>>();
  const membersOf = (id: string) => {
    const list = members.get(id) ?? conversationsRepository.listMemberIds(db, id);
    members.set(id, list);
    return list;
  };
  const events: LogBusEvent[] = [];
  for (const entry of entries) {
    if (entry.kind === 'message') {
      const recipients = await membersOf(entry.message.conversation_id);
      events.push({ kind: 'message', pos: entry.pos, recipients, message: toMessage(entry.message) });
      continue;
    }
    if (entry.kind === 'message_updated' || entry.kind === 'reaction') {
      const row = entry.subject_id
        ? await messagesRepository.findMessageById(db, entry.subject_id)
        : undefined;
      if (!row) continue;
      const recipients = await membersOf(row.conversation_id);
      events.push(
        entry.kind === 'reaction'
          ? { kind: 'reaction', pos: entry.pos, recipients, ...reactionsOf(row) }
          : { kind: 'message_updated', pos: entry.pos, recipients, message: toMessage(row) },
      );
      continue;
    }
    const row = await conversationsRepository.findConversation(db, entry.conversation_id);
    if (!row) continue;
    const conversation = await loadConversation(db, row);
    // Someone who just left hears of it too, so their devices drop the conversation.
    const recipients = [...conversation.members];
    if (entry.subject_id && !recipients.includes(entry.subject_id)) recipients.push(entry.subject_id);
    events.push({ kind: 'conversation', pos: entry.pos, recipients, conversation });
  }
  return events;
}

/**
 * What a ConnectionHub needs to follow the log in `db`: it starts after the
 * current head and reads from the database whatever the bus did not bring.
 */
export async function followLogOf(
  db: Executor,
): Promise<Pick<HubOptions, 'startAfter' | 'readLog' | 'readHead'>> {
  return {
    startAfter: await logRepository.readLogHead(db),
    readLog: (from, to) => readLogRange(db, from, to),
    readHead: () => logRepository.readLogHead(db),
  };
}
