import { conversationsRepository, type Executor, logRepository } from '@pneumatic/db';
import type { LogBusEvent } from '../realtime/event-bus.ts';
import { loadConversation } from './conversations.service.ts';
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
    const row = await conversationsRepository.findConversation(db, entry.conversation_id);
    if (!row) continue;
    const conversation = await loadConversation(db, row);
    events.push({ kind: 'conversation', pos: entry.pos, recipients: conversation.members, conversation });
  }
  return events;
}
