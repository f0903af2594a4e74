import { TRPCClientError } from '@trpc/client';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';
import type { PneumaticClientError } from './types.ts';

/** Whether `error` came from a call: the server answered with an error, or the request failed on the way. */
export function isApiError(error: unknown): error is PneumaticClientError {
  return error instanceof TRPCClientError;
}

/** The tRPC error code the server answered with (`'NOT_FOUND'`, …), or undefined when it never answered. */
export function errorCode(error: unknown): TRPC_ERROR_CODE_KEY | undefined {
  return isApiError(error) ? error.data?.code : undefined;
}

/** The server refused the credentials: the token is bad, expired or revoked, or a login failed. */
export function isUnauthorized(error: unknown): boolean {
  return errorCode(error) === 'UNAUTHORIZED';
}

/**
 * The HTTP status of a failed call: from the error body, or from the response
 * itself when the body was not tRPC's (a proxy, or the server's rate limiter).
 */
export function httpStatus(error: unknown): number | undefined {
  if (!isApiError(error)) return undefined;
  const response = error.meta?.response as { status?: unknown } | undefined;
  return error.data?.httpStatus ?? (typeof response?.status === 'number' ? response.status : undefined);
}

/** The request never got an answer: offline, server down, connection dropped. */
export function isNetworkFailure(error: unknown): boolean {
  if (!isApiError(error)) return error instanceof TypeError;
  return (
    httpStatus(error) === undefined &&
    (error.cause instanceof TypeError || /fetch|network|websocket/i.test(error.message))
  );
}

/** Messages per input field of a BAD_REQUEST (`{ password: ['Must be at least 8 characters'] }`), or null. */
export function fieldErrors(error: unknown): Partial<Record<string, string[]>> | null {
  return isApiError(error) ? (error.data?.zodError?.fieldErrors ?? null) : null;
}
