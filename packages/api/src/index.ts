import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { type AppRouter, appRouter } from './root.ts';
import { createCallerFactory } from './trpc.ts';

export { FileLinks } from './auth/file-links.ts';
export { HASH_CONCURRENCY, hashPassword, verifyPassword } from './auth/passwords.ts';
export { type TokenClaims, TokenError, TokenService, type TokenSettings } from './auth/tokens.ts';
export {
  anonymous,
  type Context,
  createContextFactory,
  requestIdentity,
  type SocketHandle,
  socketIdentity,
} from './context.ts';
export type {
  ApiDeps,
  ApiObserver,
  ApiSettings,
  BudgetResult,
  LoginThrottle,
  RequestBudget,
  UploadSettings,
} from './deps.ts';
export { callDirect, directProcedure } from './direct-calls.ts';
export {
  AUTH_MESSAGES,
  type AuthProblem,
  describeFailure,
  type Failure,
  fail,
  invalidField,
  unknownId,
  type ValidationIssue,
  validationIssues,
} from './errors.ts';
export { ConnectionHub, type HubOptions, type Listener } from './realtime/connection-hub.ts';
export {
  type BusEvent,
  type BusHandler,
  type EphemeralBusEvent,
  type EventBus,
  InProcessEventBus,
  type LogBusEvent,
} from './realtime/event-bus.ts';
export { Groups } from './realtime/groups.ts';
export { keep, keptOn, serializedOnce } from './realtime/serialized-once.ts';
export { type AppRouter, appRouter } from './root.ts';
export * as schemas from './schemas/index.ts';
export { deleteUserAccount } from './services/account.service.ts';
export {
  disableUser,
  enableUser,
  exportConversation,
  type PruneReport,
  pruneExpired,
  revokeAllSessions,
} from './services/account-admin.service.ts';
export {
  type AuthenticatedUser,
  authenticate,
  resolveSession,
  verifyToken,
} from './services/auth.service.ts';
export { requireMembership } from './services/conversations.service.ts';
export {
  DIRECT_STREAM,
  type EventSink,
  type EventStream,
  isEventStream,
  type StreamHandle,
  sharedStreamEvent,
} from './services/events.service.ts';
export {
  cleanFileName,
  linkFile,
  type OpenedFile,
  openFile,
  sweepAbandonedFiles,
  type UploadRequest,
  uploadFile,
} from './services/files.service.ts';
export { followLogOf } from './services/log-reader.ts';
export { MessageWriter, type SendResult } from './services/message-writer.ts';
export { sendMessage } from './services/messages.service.ts';

export type RouterInputs = inferRouterInputs<AppRouter>;
export type RouterOutputs = inferRouterOutputs<AppRouter>;

/** Calls procedures in-process, as the REST adapter and the legacy socket do. */
export const createCaller = createCallerFactory(appRouter);
export type AppCaller = ReturnType<typeof createCaller>;
export {
  InMemoryPresenceStore,
  Presence,
  type PresenceAudience,
  type PresenceOptions,
  type PresenceStore,
} from './realtime/presence.ts';
export { timeOrderedId } from './time-ordered-id.ts';
export { inSpan } from './tracing.ts';
