import { databaseOutage, OUTAGE_MESSAGES } from '@pneumatic/db';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

/**
 * Every failure goes through this file: services raise them with `fail`,
 * `invalidField` and `authFailure`, and `describeFailure` turns anything
 * thrown into what each transport needs (tRPC code, HTTP status, the
 * client's text, field issues, a socket's close code, a log level). REST,
 * tRPC, the legacy socket, the HTTP host and the CLI all read it; none of
 * them looks at message texts.
 */

export interface ValidationIssue {
  path: PropertyKey[];
  message: string;
  code: string;
}

/** Why a request carries no usable identity. */
export type AuthProblem = 'missing' | 'invalid' | 'expired' | 'wrong-type' | 'revoked' | 'login';

export const AUTH_MESSAGES: Record<AuthProblem, string> = {
  missing: 'Not authenticated',
  invalid: 'Invalid authentication token',
  expired: 'Token expired',
  'wrong-type': 'Invalid token type',
  revoked: 'Session is no longer valid',
  login: 'Incorrect username or password',
};

/** Carries field issues in the shape input validation failures have. */
class FieldValidationError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues[0]?.message ?? 'Invalid input');
  }
}

/** The cause of an UNAUTHORIZED error: which problem, for transports that word it their own way. */
class AuthFailure extends Error {
  constructor(readonly problem: AuthProblem) {
    super(AUTH_MESSAGES[problem]);
  }
}

/** The cause of a TOO_MANY_REQUESTS error that knows when to come back. */
class RetryLater extends Error {
  constructor(readonly seconds: number) {
    super(`retry in ${seconds} s`);
  }
}

/** A validation failure found by a service (not by an input schema): same shape for every client. */
export function invalidField(path: (string | number)[], message: string): TRPCError {
  return fail.validation([{ path, message, code: 'custom' }]);
}

export const fail = {
  /** Field by field, in the shape input validation failures have. */
  validation: (issues: ValidationIssue[]) =>
    new TRPCError({
      code: 'BAD_REQUEST',
      message: issues[0]?.message ?? 'Invalid input',
      cause: new FieldValidationError(issues),
    }),
  badRequest: (message: string) => new TRPCError({ code: 'BAD_REQUEST', message }),
  unauthorized: (problem: AuthProblem) =>
    new TRPCError({ code: 'UNAUTHORIZED', message: AUTH_MESSAGES[problem], cause: new AuthFailure(problem) }),
  forbidden: (message: string) => new TRPCError({ code: 'FORBIDDEN', message }),
  /** The conversation exists; the caller is not in it. Names nothing of it. */
  notMember: () => new TRPCError({ code: 'FORBIDDEN', message: 'Not a member of this conversation' }),
  notFound: (message: string) => new TRPCError({ code: 'NOT_FOUND', message }),
  conflict: (message: string) => new TRPCError({ code: 'CONFLICT', message }),
  tooLarge: (message: string) => new TRPCError({ code: 'PAYLOAD_TOO_LARGE', message }),
  tooManyRequests: (message: string, retryAfterSeconds?: number) =>
    new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message,
      cause: retryAfterSeconds === undefined ? undefined : new RetryLater(retryAfterSeconds),
    }),
};

/** An id as a message may quote it: a hostile one is cut short. */
function quoteId(id: string): string {
  return id.length > 64 ? `${id.slice(0, 64)}…` : id;
}

/**
 * The answers for ids that name nothing. The REST and legacy adapters give
 * the same answers, without asking the database, for ids that cannot name
 * anything (not UUIDs): old clients send whatever string they hold.
 */
export const unknownId = {
  conversation: () => fail.notFound('Conversation not found'),
  members: (ids: string[]) => fail.badRequest(`Unknown member id: ${ids.map(quoteId).join(', ')}`),
  /** A reply to no message of the conversation: the same for an unknown id and another conversation's. */
  replyTo: () => invalidField(['reply_to'], 'No such message in this conversation'),
};

/**
 * The field issues behind a validation failure, or null. tRPC wraps causes
 * (input parse failures and ours alike) in its own error types, so this
 * looks at the shape rather than the class.
 */
export function validationIssues(error: unknown): ValidationIssue[] | null {
  const cause = error instanceof TRPCError ? error.cause : error;
  if (typeof cause !== 'object' || cause === null || !('issues' in cause) || !Array.isArray(cause.issues)) {
    return null;
  }
  return cause.issues.map((issue: { path?: PropertyKey[]; message?: string; code?: string }) => ({
    path: (issue.path ?? []).map((p) =>
      typeof p === 'object' && p !== null && 'key' in p ? (p as { key: PropertyKey }).key : p,
    ),
    message: issue.message ?? 'Invalid value',
    code: issue.code ?? 'invalid',
  }));
}

/** WebSocket close codes a failure can end a socket with. */
const CLOSE = { policy: 1008, internal: 1011, tryAgainLater: 1013 } as const;

/** What every transport needs to know about something that was thrown. */
export interface Failure {
  /** The tRPC error code clients see. */
  code: TRPC_ERROR_CODE_KEY;
  /** HTTP status (REST answers field issues with 422 instead, as FastAPI did). */
  status: number;
  /** Safe to show: never SQL, a stack or a driver's words. */
  message: string;
  /** Field by field, for a validation failure; else null. */
  issues: ValidationIssue[] | null;
  /** For UNAUTHORIZED: which problem. */
  auth: AuthProblem | null;
  /** Seconds after which a retry may succeed (503 and some 429s); else null. */
  retryAfterSeconds: number | null;
  /** How a socket that cannot go on because of this is closed. */
  close: { code: number; reason: string };
  /** What the server logs: a client's mistake nothing, an outage a warning, a bug an error. */
  log: 'none' | 'warn' | 'error';
}

/** tRPC's error code for an HTTP status, for errors raised outside tRPC (fastify's). */
function codeForStatus(status: number): TRPC_ERROR_CODE_KEY {
  const codes: Partial<Record<number, TRPC_ERROR_CODE_KEY>> = {
    400: 'BAD_REQUEST',
    401: 'UNAUTHORIZED',
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    405: 'METHOD_NOT_SUPPORTED',
    408: 'TIMEOUT',
    409: 'CONFLICT',
    413: 'PAYLOAD_TOO_LARGE',
    415: 'UNSUPPORTED_MEDIA_TYPE',
    422: 'UNPROCESSABLE_CONTENT',
    429: 'TOO_MANY_REQUESTS',
  };
  return codes[status] ?? 'BAD_REQUEST';
}

/** A socket's close for a refused identity: clients read 1008 as "log in again". */
function authClose(problem: AuthProblem): { code: number; reason: string } {
  if (problem === 'missing') return { code: CLOSE.policy, reason: 'Missing authentication token' };
  if (problem === 'wrong-type') return { code: CLOSE.policy, reason: 'Invalid token type' };
  return { code: CLOSE.policy, reason: 'Invalid authentication token' };
}

const INTERNAL: Failure = {
  code: 'INTERNAL_SERVER_ERROR',
  status: 500,
  message: 'Internal server error',
  issues: null,
  auth: null,
  retryAfterSeconds: null,
  close: { code: CLOSE.internal, reason: 'internal error' },
  log: 'error',
};

/** Errors of the HTTP framework and the JSON parser: a client's request was wrong. */
function clientError(
  error: object,
): { status: number; message: string; issues: ValidationIssue[] | null } | null {
  const code = 'code' in error ? error.code : undefined;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError)
    return {
      status: 400,
      message: 'Invalid JSON',
      issues: [{ path: [], message: 'Invalid JSON', code: 'json_invalid' }],
    };
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 0;
  if (status < 400 || status >= 500) return null;
  const message = error instanceof Error ? error.message : 'Bad request';
  return { status, message, issues: null };
}

/** Turns anything thrown into what each transport needs. Never throws. */
export function describeFailure(error: unknown): Failure {
  const outage = databaseOutage(error);
  if (outage) {
    const message = OUTAGE_MESSAGES[outage];
    return {
      ...INTERNAL,
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
      message,
      retryAfterSeconds: 1,
      close: { code: CLOSE.tryAgainLater, reason: message },
      log: 'warn',
    };
  }
  if (error instanceof TRPCError) {
    if (error.code === 'INTERNAL_SERVER_ERROR') return INTERNAL;
    const cause = error.cause;
    const auth =
      cause instanceof AuthFailure ? cause.problem : error.code === 'UNAUTHORIZED' ? 'invalid' : null;
    return {
      code: error.code,
      status: getHTTPStatusCodeFromError(error),
      message: error.message,
      issues: validationIssues(error),
      auth,
      retryAfterSeconds: cause instanceof RetryLater ? cause.seconds : null,
      close: auth ? authClose(auth) : { code: CLOSE.policy, reason: error.message },
      log: 'none',
    };
  }
  const client = typeof error === 'object' && error !== null ? clientError(error) : null;
  if (client) {
    return {
      ...INTERNAL,
      code: codeForStatus(client.status),
      status: client.status,
      message: client.message,
      issues: client.issues,
      close: { code: CLOSE.policy, reason: client.message },
      log: 'none',
    };
  }
  const issues = validationIssues(error);
  if (issues)
    return {
      ...INTERNAL,
      code: 'BAD_REQUEST',
      status: 400,
      message: issues[0]?.message ?? 'Invalid input',
      issues,
      close: { code: CLOSE.policy, reason: 'invalid input' },
      log: 'none',
    };
  return INTERNAL;
}
