import type { PendingMessage } from './message-pages.ts';
import { ValueStore } from './store.ts';

/** My messages on their way to the server, oldest first. */
export class Outbox extends ValueStore<readonly PendingMessage[]> {
  constructor() {
    super([]);
  }

  put(message: PendingMessage): void {
    this.update((items) => [...items.filter((m) => m.message_id !== message.message_id), message]);
  }

  find(messageId: string): PendingMessage | undefined {
    return this.get().find((m) => m.message_id === messageId);
  }

  patch(messageId: string, change: Partial<Pick<PendingMessage, 'status' | 'error'>>): void {
    this.update((items) => items.map((m) => (m.message_id === messageId ? { ...m, ...change } : m)));
  }

  remove(messageId: string): void {
    this.update((items) => items.filter((m) => m.message_id !== messageId));
  }
}
