import { z } from 'zod';
import { Password } from './auth.schema.ts';
import { Id, PublicUser, Timestamp, text } from './common.ts';

export const ChangePasswordInput = z.object({
  current_password: z.string().max(1024),
  /** Checked like a signup's password (length bounds, PASSWORD_MIN_LENGTH). */
  new_password: Password,
});
export type ChangePasswordInput = z.infer<typeof ChangePasswordInput>;

export const RenameInput = z.object({
  /** The display name; empty or null clears it. */
  full_name: text({ max: 100 }).nullable(),
});
export type RenameInput = z.infer<typeof RenameInput>;

export const DeleteAccountInput = z.object({ password: z.string().max(1024) });
export type DeleteAccountInput = z.infer<typeof DeleteAccountInput>;

export const SessionIdInput = z.object({ session_id: z.string().max(64) });
export type SessionIdInput = z.infer<typeof SessionIdInput>;

/** One login of the caller's, as their sessions list shows it. */
export const LoginSession = z
  .object({
    id: Id,
    created_at: Timestamp,
    /** Last login or token refresh. */
    last_used_at: Timestamp,
    expires_at: Timestamp,
    /** The client's address at its last use, if known. */
    ip_address: z.string().nullable(),
    user_agent: z.string().nullable(),
    /** The User-Agent in a few words: "Firefox on Linux", "curl". */
    client: z.string(),
    /** The login this request was made with. */
    current: z.boolean(),
  })
  .meta({ id: 'LoginSession' });
export type LoginSession = z.infer<typeof LoginSession>;

export const LoginSessionList = z
  .object({ sessions: z.array(LoginSession) })
  .meta({ id: 'LoginSessionList' });

export const UsersListInput = z
  .object({
    /** Matches any part of the username or full name, ignoring case. */
    query: z.string().trim().max(100).optional(),
    /** `next_cursor` of the previous page. */
    cursor: z.string().max(200).nullish(),
    /** 1–100, default 50. */
    limit: z.number().int().min(1).max(100).default(50),
  })
  .optional();
export type UsersListInput = z.infer<typeof UsersListInput>;

export const ListedUser = PublicUser.extend({ online: z.boolean() });

export const UserPage = z.object({
  users: z.array(ListedUser),
  /** Pass as `cursor` for the next page; null on the last page. */
  next_cursor: z.string().nullable(),
});
export type UserPage = z.infer<typeof UserPage>;

export const UsersGetInput = z.object({ ids: z.array(z.string().max(64)).max(200) });

/** A user looked up by id: deleted accounts included, named "Deleted user". */
export const KnownUser = PublicUser.extend({ deleted: z.boolean() });
