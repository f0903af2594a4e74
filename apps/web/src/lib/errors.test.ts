import { TRPCClientError } from '@pneumatic/client';
import { describe, expect, it } from 'vitest';
import { describeError, toFormErrors } from './errors.ts';

function serverError(code: string, httpStatus: number, message: string, zodError: unknown = null) {
  return TRPCClientError.from({ error: { message, code: -32600, data: { code, httpStatus, zodError } } });
}

const FIELDS = ['username', 'password', 'full_name'] as const;

describe('toFormErrors', () => {
  it('puts zod field errors next to their fields', () => {
    const error = serverError('BAD_REQUEST', 400, '[...]', {
      formErrors: [],
      fieldErrors: {
        password: ['Must be at least 8 characters'],
        username: ['Must be at least 3 characters'],
      },
    });
    expect(toFormErrors(error, FIELDS)).toEqual({
      fields: { password: 'Must be at least 8 characters', username: 'Must be at least 3 characters' },
      form: null,
    });
  });

  it('routes a plain message to the field it concerns', () => {
    const error = serverError('BAD_REQUEST', 400, 'Username already registered');
    expect(toFormErrors(error, FIELDS, (m) => (/username/i.test(m) ? 'username' : null))).toEqual({
      fields: { username: 'Username already registered' },
      form: null,
    });
  });

  it('gives the form a message that concerns no field', () => {
    const error = serverError('UNAUTHORIZED', 401, 'Incorrect username or password');
    expect(toFormErrors(error, FIELDS)).toEqual({ fields: {}, form: 'Incorrect username or password' });
  });

  it('explains a rate limit answered outside tRPC (plain 429 body)', () => {
    const limited = TRPCClientError.from(new Error('Unable to transform response from server'), {
      meta: { response: { status: 429 } },
    });
    expect(describeError(limited)).toMatch(/too many requests/i);
  });

  it('explains a network failure in words', () => {
    const offline = TRPCClientError.from(new TypeError('Failed to fetch'));
    expect(toFormErrors(offline, FIELDS).form).toMatch(/can’t reach pneumatic/i);
    expect(describeError(new TypeError('NetworkError when attempting to fetch resource.'))).toMatch(
      /connection/,
    );
  });
});
