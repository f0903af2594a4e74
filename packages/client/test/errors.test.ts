import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { errorCode, fieldErrors, httpStatus, isNetworkFailure, isUnauthorized } from '../src/errors.ts';

function serverError(code: string, status: number, message: string, zodError: unknown = null) {
  return TRPCClientError.from({
    error: { message, code: -32600, data: { code, httpStatus: status, zodError } },
  });
}

describe('error helpers', () => {
  it('read the code, the status and the field errors of a server answer', () => {
    const error = serverError('BAD_REQUEST', 400, '[...]', {
      formErrors: [],
      fieldErrors: { password: ['Must be at least 8 characters'] },
    });
    expect(errorCode(error)).toBe('BAD_REQUEST');
    expect(httpStatus(error)).toBe(400);
    expect(fieldErrors(error)).toEqual({ password: ['Must be at least 8 characters'] });
    expect(isNetworkFailure(error)).toBe(false);
  });

  it('tell a refused login or token', () => {
    expect(isUnauthorized(serverError('UNAUTHORIZED', 401, 'Incorrect username or password'))).toBe(true);
    expect(isUnauthorized(serverError('FORBIDDEN', 403, 'Not a member of this conversation'))).toBe(false);
    expect(isUnauthorized(new Error('UNAUTHORIZED'))).toBe(false);
  });

  it('read the status of an answer that was not tRPC’s (a plain 429 from the rate limiter)', () => {
    const limited = TRPCClientError.from(new Error('Unable to transform response from server'), {
      meta: { response: { status: 429 } },
    });
    expect(httpStatus(limited)).toBe(429);
    expect(errorCode(limited)).toBeUndefined();
    expect(isNetworkFailure(limited)).toBe(false);
  });

  it('tell a request that never got an answer', () => {
    expect(isNetworkFailure(TRPCClientError.from(new TypeError('Failed to fetch')))).toBe(true);
    expect(isNetworkFailure(new TypeError('fetch failed'))).toBe(true);
    expect(fieldErrors(new TypeError('fetch failed'))).toBeNull();
  });
});
