import { z } from 'zod';

// C0 controls other than tab, newline and carriage return, DEL, and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_IN_LINE = /[\u0000-\u001F\u007F-\u009F]/;

/** Control characters, for identifiers that are not free text. */
export const CONTROL = CONTROL_IN_LINE;

/** Seqs are 32-bit integers in the database; larger cursors are refused, not sent to it. */
export const MAX_SEQ = 2 ** 31 - 1;

/** Counts characters as people do: one per code point, so an emoji counts once. */
export function characterCount(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}

interface TextOptions {
  min?: number;
  max: number;
  /** Allow line breaks and tabs (message content). Default false. */
  multiline?: boolean;
}

/** A trimmed, well-formed string of `min`–`max` characters without control characters. */
export function text({ min = 0, max, multiline = false }: TextOptions) {
  return z
    .string()
    .max(max * 2)
    .trim()
    .superRefine((value, ctx) => {
      if (!value.isWellFormed()) {
        ctx.addIssue({ code: 'custom', message: 'Text contains an unpaired surrogate' });
        return;
      }
      if ((multiline ? CONTROL_IN_TEXT : CONTROL_IN_LINE).test(value)) {
        ctx.addIssue({ code: 'custom', message: 'Text contains a control character' });
        return;
      }
      const count = characterCount(value);
      if (count < min) {
        ctx.addIssue({
          code: 'too_small',
          origin: 'string',
          minimum: min,
          inclusive: true,
          input: value,
          message: min === 1 ? 'Must not be empty' : `Must be at least ${min} characters`,
        });
      } else if (count > max) {
        ctx.addIssue({
          code: 'too_big',
          origin: 'string',
          maximum: max,
          inclusive: true,
          input: value,
          message: `Must be at most ${max} characters`,
        });
      }
    });
}

export const Id = z.uuid({ error: 'Must be a UUID' });

/** True for a string that can be an id (a UUID): anything else names nothing. */
export function isId(value: unknown): value is string {
  return Id.safeParse(value).success;
}

/** ISO 8601 UTC with a Z, as the contract fixes. */
export const Timestamp = z.iso.datetime();

export const PublicUser = z
  .object({
    id: Id,
    username: z.string(),
    full_name: z.string().nullable(),
  })
  .meta({ id: 'User' });
export type PublicUser = z.infer<typeof PublicUser>;
