import type { DatabaseHandle, FileStore } from '@pneumatic/db';
import type { FileLinks } from './auth/file-links.ts';
import type { TokenService } from './auth/tokens.ts';
import type { ConnectionHub } from './realtime/connection-hub.ts';
import type { EventBus } from './realtime/event-bus.ts';
import type { Presence } from './realtime/presence.ts';
import type { Message } from './schemas/messages.schema.ts';
import type { MessageWriter } from './services/message-writer.ts';

export interface ApiSettings {
  /** Shortest password accepted at sign-up. Default 8. */
  passwordMinLength: number;
  /** Most events replayed to a reconnecting stream before it is told to resync. Default 1000. */
  replayLimit: number;
  /** Whether procedures open spans (OpenTelemetry is configured). Default false. */
  tracing: boolean;
  /** Whether anyone may sign up (`auth.signup`, `POST /auth/signup`). Default true; the CLI always may. */
  allowSignup: boolean;
  uploads: UploadSettings;
}

export interface UploadSettings {
  /** Largest file accepted, in bytes. Default 25 MiB. */
  maxBytes: number;
  /** Bytes one user may upload in any 24 hours (files deleted since give theirs back). Default 500 MiB. */
  quotaBytesPerDay: number;
  /** Uploads no message carries are removed after this. Default 3600 s. */
  pendingTtlSeconds: number;
}

/** Hooks for the host's metrics and logs; the API never logs by itself. */
export interface ApiObserver {
  messageStored?(message: Message): void;
  sessionRevoked?(sessionId: string, reason: 'logout' | 'reuse' | 'operator'): void;
  /** Every procedure call, with its duration and the error code if it failed. */
  procedureDone?(path: string, type: string, durationMs: number, errorCode: string | null): void;
  /** An event stream opened (+1) or closed (-1). */
  subscriptionsChanged?(delta: 1 | -1): void;
  /** A group commit wrote `size` sends in one transaction. */
  batchWritten?(size: number): void;
  /** A message reached a socket; `createdAt` is when it was stored. */
  messageDelivered?(createdAt: string, transport: 'trpc' | 'legacy'): void;
}

/** The outcome of spending one unit of a request budget. */
export interface BudgetResult {
  allowed: boolean;
  /** The limit of the window that is closest to running out. */
  limit: number;
  remaining: number;
  /** Seconds until that window resets. */
  resetSeconds: number;
  /** Human-readable refusal, e.g. `Rate limit exceeded: 60 requests per minute`. */
  message: string;
}

/**
 * Requests per user (or per address, unauthenticated). HTTP requests, tRPC
 * calls over a socket and legacy socket frames all spend the same budget.
 */
export interface RequestBudget {
  consume(key: string): BudgetResult | Promise<BudgetResult>;
}

/**
 * Slows password guessing per account and address, so an attacker cannot
 * lock the owner out from elsewhere. Returns seconds to wait, 0 when allowed.
 */
export interface LoginThrottle {
  blockedFor(usernameLower: string, ip: string): Promise<number>;
  failed(usernameLower: string, ip: string): Promise<void>;
  succeeded(usernameLower: string, ip: string): Promise<void>;
}

/** Everything the procedures need, built once by the host process. */
export interface ApiDeps {
  database: DatabaseHandle;
  tokens: TokenService;
  bus: EventBus;
  hub: ConnectionHub;
  /** Group-commits sends; whoever builds the deps closes it (after the sends in flight) before the database. */
  writer: MessageWriter;
  settings: ApiSettings;
  observer: ApiObserver;
  /** Where uploaded files' bytes live (disk for one machine, the database for several). */
  files: FileStore;
  /** Signs and checks download links for `<img>` tags. */
  fileLinks: FileLinks;
  /** Who is online; absent, everyone shows as offline. */
  presence?: Presence;
  budget?: RequestBudget;
  loginThrottle?: LoginThrottle;
}
