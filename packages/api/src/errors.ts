import { TRPCError } from '@trpc/server';
import { z } from 'zod';

/** A validation failure found by a service (not by an input schema): same shape for every client. */
export function invalidField(path: (string | number)[], message: string): TRPCError {
  return new TRPCError({
    code: 'BAD_REQUEST',
    message,
    cause: new z.ZodError([{ code: 'custom', path, message, input: undefined }]),
  });
}

export const fail = {
  badRequest: (message: string) => new TRPCError({ code: 'BAD_REQUEST', message }),
  unauthorized: (message: string) => new TRPCError({ code: 'UNAUTHORIZED', message }),
  forbidden: (message: string) => new TRPCError({ code: 'FORBIDDEN', message }),
  notFound: (message: string) => new TRPCError({ code: 'NOT_FOUND', message }),
  conflict: (message: string) => new TRPCError({ code: 'CONFLICT', message }),
};
