import { TRPCError } from '@trpc/server';

/** Carries field issues in the shape input validation failures have. */
class FieldValidationError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues[0]?.message ?? 'Invalid input');
  }
}

/** A validation failure found by a service (not by an input schema): same shape for every client. */
export function invalidField(path: (string | number)[], message: string): TRPCError {
  return new TRPCError({
    code: 'BAD_REQUEST',
    message,
    cause: new FieldValidationError([{ path, message, code: 'custom' }]),
  });
}

export const fail = {
  badRequest: (message: string) => new TRPCError({ code: 'BAD_REQUEST', message }),
  unauthorized: (message: string) => new TRPCError({ code: 'UNAUTHORIZED', message }),
  forbidden: (message: string) => new TRPCError({ code: 'FORBIDDEN', message }),
  notFound: (message: string) => new TRPCError({ code: 'NOT_FOUND', message }),
  conflict: (message: string) => new TRPCError({ code: 'CONFLICT', message }),
};

export interface ValidationIssue {
  path: PropertyKey[];
  message: string;
  code: string;
}

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
