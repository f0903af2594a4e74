import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { z } from 'zod';

/** One entry of a FastAPI-style validation error. */
export interface ValidationDetail {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export interface RestError {
  status: number;
  body: { detail: string | ValidationDetail[] };
  headers?: Record<string, string>;
}

/** Maps a path inside a procedure's input to where the value came from in the request. */
export type Locate = (path: readonly PropertyKey[]) => (string | number)[];

export const inBody: Locate = (path) => ['body', ...path.map(toLocPart)];

function toLocPart(part: PropertyKey): string | number {
  return typeof part === 'number' ? part : String(part);
}

export function validationError(error: z.ZodError, locate: Locate): RestError {
  return {
    status: 422,
    body: {
      detail: error.issues.map((issue) => ({
        loc: locate(issue.path),
        msg: issue.message,
        type: issue.code,
      })),
    },
  };
}

/** Turns anything a procedure threw into the contract's status and `{detail}` body. */
export function toRestError(error: unknown, locate: Locate): RestError {
  if (error instanceof z.ZodError) return validationError(error, locate);
  if (!(error instanceof TRPCError)) return { status: 500, body: { detail: 'Internal server error' } };
  if (error.cause instanceof z.ZodError) return validationError(error.cause, locate);
  if (error.code === 'INTERNAL_SERVER_ERROR') return { status: 500, body: { detail: 'Internal server error' } };
  const status = getHTTPStatusCodeFromError(error);
  const headers = status === 401 ? { 'www-authenticate': 'Bearer' } : undefined;
  return { status, body: { detail: error.message }, headers };
}
