import type { TRPC_ERROR_CODE_KEY } from '@trpc/server';
import type { PneumaticClientError } from './types.ts';
/** Whether `error` came from a call: the server answered with an error, or the request failed on the way. */
export declare function isApiError(error: unknown): error is PneumaticClientError;
/** The tRPC error code the server answered with (`'NOT_FOUND'`, …), or undefined when it never answered. */
export declare function errorCode(error: unknown): TRPC_ERROR_CODE_KEY | undefined;
/** The server refused the credentials: the token is bad, expired or revoked, or a login failed. */
export declare function isUnauthorized(error: unknown): boolean;
/**
 * The HTTP status of a failed call: from the error body, or from the response
 * itself when the body was not tRPC's (a proxy, or the server's rate limiter).
 */
export declare function httpStatus(error: unknown): number | undefined;
/** The request never got an answer: offline, server down, connection dropped. */
export declare function isNetworkFailure(error: unknown): boolean;
/** Messages per input field of a BAD_REQUEST (`{ password: ['Must be at least 8 characters'] }`), or null. */
export declare function fieldErrors(error: unknown): Partial<Record<string, string[]>> | null;
