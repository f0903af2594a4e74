import { type ValidationIssue, validationIssues } from '@pneumatic/api';
import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { databaseOutage, OUTAGE_MESSAGES } from '../database-errors.ts';

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

export function validationError(issues: ValidationIssue[], locate: Locate): RestError {
  return {
    status: 422,
    body: {
      detail: issues.map((issue) => ({
        loc: locate(issue.path),
        msg: issue.message,
        type: issue.code,
      })),
    },
  };
}

/** 503 for a database that is busy, read-only or away: the client may retry; nothing was stored. */
export function outageError(error: unknown): RestError | null {
  const outage = databaseOutage(error);
  if (!outage) return null;
  return { status: 503, body: { detail: OUTAGE_MESSAGES[outage] }, headers: { 'retry-after': '1' } };
}

/** Turns anything a procedure threw into the contract's status and `{detail}` body. */
export function toRestError(error: unknown, locate: Locate): RestError {
  const issues = validationIssues(error);
  if (issues) return validationError(issues, locate);
  if (!(error instanceof TRPCError) || error.code === 'INTERNAL_SERVER_ERROR')
    return outageError(error) ?? { status: 500, body: { detail: 'Internal server error' } };
  const status = getHTTPStatusCodeFromError(error);
  const headers = status === 401 ? { 'www-authenticate': 'Bearer' } : undefined;
  return { status, body: { detail: error.message }, headers };
}
