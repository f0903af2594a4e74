import { httpStatus, isApiError } from '@pneumatic/client';

const UNREACHABLE = 'Can’t reach Pneumatic right now. Check your connection and try again.';
const TOO_MANY = 'Too many requests. Wait a moment and try again.';

/** One line for a person, from any error a call may throw. */
export function describeError(error: unknown): string {
  if (isApiError(error)) {
    if (!error.data) {
      const status = httpStatus(error);
      if (status === 429) return TOO_MANY;
      return status === undefined ? UNREACHABLE : `The server answered ${status}. Please try again.`;
    }
    const fieldErrors = error.data.zodError?.fieldErrors;
    const first = fieldErrors && Object.values(fieldErrors).flat()[0];
    if (first) return first;
    if (error.data.code === 'INTERNAL_SERVER_ERROR')
      return 'Something went wrong on our side. Please try again.';
    return error.message;
  }
  if (error instanceof TypeError) return UNREACHABLE;
  return error instanceof Error ? error.message : String(error);
}

/** Errors for a form: messages per field, and one for the whole form. */
export interface FormErrors<Field extends string> {
  fields: Partial<Record<Field, string>>;
  form: string | null;
}

/**
 * Spreads a server error over a form's fields: zod's `fieldErrors` go next to
 * their field, and a plain message to the field that `routeMessage` names,
 * or else to the whole form.
 */
export function toFormErrors<Field extends string>(
  error: unknown,
  knownFields: readonly Field[],
  routeMessage: (message: string) => Field | null = () => null,
): FormErrors<Field> {
  const fields: Partial<Record<Field, string>> = {};
  if (isApiError(error) && error.data) {
    const fieldErrors = error.data.zodError?.fieldErrors ?? {};
    for (const [name, messages] of Object.entries(fieldErrors)) {
      const message = messages?.[0];
      if (message && (knownFields as readonly string[]).includes(name)) fields[name as Field] = message;
    }
    if (Object.keys(fields).length > 0) return { fields, form: null };
    if (!error.data.zodError) {
      const field = routeMessage(error.message);
      if (field) return { fields: { [field]: error.message } as Partial<Record<Field, string>>, form: null };
    }
  }
  return { fields, form: describeError(error) };
}
