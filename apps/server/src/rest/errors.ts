import { type Failure, fail, type ValidationIssue } from '@pneumatic/api';

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

/** The contract's status and `{detail}` body for a failure (see describeFailure). */
export function toRestError(failure: Failure, locate: Locate): RestError {
  const headers: Record<string, string> = {};
  if (failure.status === 401) headers['www-authenticate'] = 'Bearer';
  if (failure.retryAfterSeconds !== null) headers['retry-after'] = String(failure.retryAfterSeconds);
  if (failure.issues) {
    const detail = failure.issues.map((issue) => ({
      loc: locate(issue.path),
      msg: issue.message,
      type: issue.code,
    }));
    return { status: 422, body: { detail }, headers };
  }
  return { status: failure.status, body: { detail: failure.message }, headers };
}

/** Which input fields hold ids, and how an unknown one is answered. */
export type IdFields = Record<string, (values: string[]) => Error>;

/** An issue saying a string is not a UUID (zod's uuid format), at an id field. */
function malformedIdField(issue: ValidationIssue, idFields: IdFields): string | null {
  const field = issue.path[0];
  if (issue.code !== 'invalid_format' || typeof field !== 'string' || !(field in idFields)) return null;
  return field;
}

/**
 * The contract answers an id that is not a UUID exactly as an unknown one:
 * such an id can name nothing, so the database is not asked. Given the
 * procedure's validation failure, this drops the issues of malformed ids;
 * when none is left, it is the unknown-id answer (404 for a conversation,
 * 400 naming member ids), else the other issues alone (422).
 */
export function asUnknownIds(
  error: unknown,
  issues: ValidationIssue[],
  input: unknown,
  idFields: IdFields,
): unknown {
  const malformed = new Map<string, string[]>();
  const others: ValidationIssue[] = [];
  for (const issue of issues) {
    const field = malformedIdField(issue, idFields);
    if (field === null) others.push(issue);
    else malformed.set(field, [...(malformed.get(field) ?? []), String(valueAt(input, issue.path))]);
  }
  if (malformed.size === 0) return error;
  if (others.length > 0) return fail.validation(others);
  const [field, values] = malformed.entries().next().value!;
  return idFields[field]!(values);
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path)
    value = typeof value === 'object' && value !== null ? (value as never)[key] : undefined;
  return value;
}
