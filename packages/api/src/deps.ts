import type { DatabaseHandle } from '@pneumatic/db';
import type { TokenService } from './auth/tokens.ts';
import type { ConnectionHub } from './realtime/connection-hub.ts';
import type { EventBus } from './realtime/event-bus.ts';
import type { Message } from './schemas/messages.schema.ts';

export interface ApiSettings {
  /** Shortest password accepted at sign-up. Default 8. */
  passwordMinLength: number;
  /** Most events replayed to a reconnecting stream before it is told to resync. Default 1000. */
  replayLimit: number;
}

/** Hooks for the host's metrics and logs; the API never logs by itself. */
export interface ApiObserver {
  messageStored?(message: Message): void;
  sessionRevoked?(sessionId: string, reason: 'logout' | 'reuse'): void;
}

/** Everything the procedures need, built once by the host process. */
export interface ApiDeps {
  database: DatabaseHandle;
  tokens: TokenService;
  bus: EventBus;
  hub: ConnectionHub;
  settings: ApiSettings;
  observer: ApiObserver;
}
