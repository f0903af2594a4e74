import { z } from 'zod';
import { CONTROL, text } from './common.ts';

export const Username = z
  .string()
  .min(3, 'Must be at least 3 characters')
  .max(32, 'Must be at most 32 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'Only letters, digits, underscore, dot and hyphen');

/**
 * Passwords are never trimmed or truncated. The lower bound is a setting
 * (PASSWORD_MIN_LENGTH) checked by the auth service.
 */
export const Password = z
  .string()
  .min(1, 'Must not be empty')
  .max(1024, 'Must be at most 1024 characters')
  // The argon2 binding would turn an unpaired surrogate into U+FFFD, making two passwords one.
  .refine((value) => value.isWellFormed(), 'Contains an unpaired surrogate');

export const SignupInput = z.object({
  username: Username,
  password: Password,
  full_name: text({ max: 100 }).nullish(),
});
export type SignupInput = z.infer<typeof SignupInput>;

export const LoginInput = z.object({
  username: z
    .string()
    .max(256)
    .refine((value) => !CONTROL.test(value), 'Contains a control character'),
  password: z
    .string()
    .max(1024)
    .refine((value) => value.isWellFormed(), 'Contains an unpaired surrogate'),
});
export type LoginInput = z.infer<typeof LoginInput>;

export const RefreshInput = z.object({ refresh_token: z.string().min(1).max(4096) });
export type RefreshInput = z.infer<typeof RefreshInput>;

export const TokenPair = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('bearer'),
    /** Seconds until the access token expires. */
    expires_in: z.number().int(),
  })
  .meta({ id: 'TokenPair' });
export type TokenPair = z.infer<typeof TokenPair>;
