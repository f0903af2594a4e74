export { TRPCClientError } from '@trpc/client';
export { MAX_RECONNECT_DELAY_MS, reconnectDelay } from './backoff.ts';
export {
  createPneumaticClient,
  type FileBody,
  FileRequestError,
  type FileRequestOptions,
  type HistoryOptions,
  PneumaticClient,
  type PneumaticClientOptions,
  type SendMessageOptions,
} from './client.ts';
export {
  errorCode,
  fieldErrors,
  httpStatus,
  isApiError,
  isNetworkFailure,
  isUnauthorized,
} from './errors.ts';
export type { EventsOptions, StreamEventWithId } from './events.ts';
export { readTokenClaims, type TokenClaims, tokenExpiresAt } from './jwt.ts';
export {
  accessTokenLink,
  type ConnectionState,
  type ConnectionStatus,
  SOCKET_SESSION_REVOKED,
  SOCKET_TOKEN_EXPIRED,
  type WebSocketConstructor,
} from './links.ts';
export { newMessageId } from './message-id.ts';
export type {
  CallDescriptor,
  ProcedureDescriptor,
  ProcedureDescriptors,
  RouterFromProcedures,
  SubscriptionDescriptor,
} from './router.ts';
export {
  type Lock,
  localTokenStorage,
  memoryTokenStorage,
  Session,
  SessionEndedError,
  type SessionOptions,
  type TokenPair,
  type TokenStorage,
} from './session.ts';
export type {
  Attachment,
  Conversation,
  ConversationListItem,
  CreateConversationInput,
  ListMessagesInput,
  LoginInput,
  LoginSession,
  Message,
  MessagePage,
  PneumaticApi,
  PneumaticClientError,
  PneumaticErrorShape,
  PneumaticProcedures,
  PneumaticRouter,
  RouterInputs,
  RouterOutputs,
  SendMessageInput,
  SignupInput,
  StreamEvent,
  TokenPairResponse,
  UploadedFile,
  User,
  UserPage,
} from './types.ts';
