import type { AuthenticatedUser, AppCaller as Caller } from '@pneumatic/api';
import { fail, schemas, unknownId } from '@pneumatic/api';
import { z } from 'zod';
import type { IdFields, Locate } from './errors.ts';

export interface RestRequest {
  body: unknown;
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** Set for routes with `auth: true`. */
  auth: AuthenticatedUser | undefined;
}

/** One documented REST path, served by calling the tRPC procedure behind it. */
export interface RestRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** OpenAPI style: `/conversations/{conversation_id}/messages`. */
  path: string;
  summary: string;
  tag: string;
  auth: boolean;
  /**
   * The procedure checks the login itself, alongside its read
   * (memberReadProcedure), and answers 401 ahead of anything else: the
   * route does not wait for the check before calling it.
   */
  checksLogin?: true;
  status: number;
  body?: z.ZodType;
  pathParams?: z.ZodObject;
  queryParams?: z.ZodObject;
  response?: z.ZodType;
  /** Where a procedure's input field came from, for 422 `loc`. Default: the body. */
  locate?: Locate;
  /** The procedure's input, taken from the request; parsed once, by the procedure. Default: the body. */
  input?(request: RestRequest): unknown;
  /** Input fields that hold ids, and the answer for unknown ones (also given to ids that are not UUIDs). */
  idFields?: IdFields;
  call(caller: Caller, input: unknown, request: RestRequest): Promise<unknown>;
}

export const ErrorDetail = z
  .object({
    detail: z.union([
      z.string(),
      z.array(
        z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() }),
      ),
    ]),
  })
  .meta({ id: 'Error' });

const UsersList = z
  .object({
    users: z.array(schemas.PublicUser),
    next_cursor: z.string().nullable().optional().meta({ description: 'Only when paging: the next page' }),
  })
  .meta({ id: 'UserList' });
const UsersQuery = z.object({
  q: z.string().optional().meta({ description: 'Part of a username or full name, any case' }),
  limit: z.coerce.number().int().min(1).max(100).optional().meta({ description: '1–100: page by page' }),
  cursor: z.string().optional().meta({ description: '`next_cursor` of the previous page' }),
});
/** Without `q`, `limit` or `cursor`, GET /users answers everyone, as it always did. */
const usersLocate: Locate = (path) => {
  const field = String(path[0] ?? 'q');
  return ['query', field === 'query' ? 'q' : field];
};
const ConversationsList = z
  .object({ conversations: z.array(schemas.ConversationListItem) })
  .meta({ id: 'ConversationList' });
const PostMessageBody = schemas.SendMessageFields.extend({ sender_id: schemas.Id }).superRefine(
  schemas.contentOrFiles,
);
/** The old service's rule: a message is sent as its authenticated sender only. */
const SENDER_MISMATCH = 'sender_id must match authenticated user';
/** What POST /messages is checked against when its sender_id is not the caller's: is it invalid anyway? */
const AnySenderBody = schemas.SendMessageFields.extend({
  sender_id: z.string(),
  conversation_id: z.string(),
}).superRefine(schemas.contentOrFiles);
const HistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).optional().meta({ description: '1–200, default 50' }),
  before: z.coerce.number().int().min(1).optional().meta({ description: 'A seq: return older messages' }),
});

/** `limit` and `before` arrive as strings; numbers pass, anything else reaches zod as is and fails there. */
function queryNumber(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
}

const historyLocate: Locate = (path) => {
  const [field, ...rest] = path.map((p) => (typeof p === 'number' ? p : String(p)));
  if (field === 'conversation_id') return ['path', 'conversation_id', ...rest];
  if (field === 'cursor') return ['query', 'before', ...rest];
  return ['query', field ?? 'query', ...rest];
};

export const restRoutes: RestRoute[] = [
  {
    method: 'POST',
    path: '/auth/signup',
    summary: 'Create an account (403 while sign-up is closed: ALLOW_SIGNUP=false)',
    tag: 'auth',
    auth: false,
    status: 201,
    body: schemas.SignupInput,
    response: schemas.PublicUser,
    call: (caller, input) => caller.auth.signup(input as never),
  },
  {
    method: 'POST',
    path: '/auth/login',
    summary: 'Log in: an access and a refresh token',
    tag: 'auth',
    auth: false,
    status: 200,
    body: schemas.LoginInput,
    response: schemas.TokenPair,
    call: (caller, input) => caller.auth.login(input as never),
  },
  {
    method: 'POST',
    path: '/auth/refresh',
    summary: 'Rotate the refresh token: both tokens new, the old refresh token retired',
    tag: 'auth',
    auth: false,
    status: 200,
    body: schemas.RefreshInput,
    response: schemas.TokenPair,
    call: (caller, input) => caller.auth.refresh(input as never),
  },
  {
    method: 'POST',
    path: '/auth/logout',
    summary: 'End the login: its refresh family is revoked and its sockets closed',
    tag: 'auth',
    auth: false,
    status: 204,
    body: schemas.RefreshInput,
    call: (caller, input) => caller.auth.logout(input as never),
  },
  {
    method: 'GET',
    path: '/auth/me',
    summary: 'The authenticated user',
    tag: 'auth',
    auth: true,
    status: 200,
    response: schemas.PublicUser,
    call: (caller) => caller.auth.me(),
  },
  {
    method: 'POST',
    path: '/auth/password',
    summary: "Change the password (the current one required); the caller's other logins are signed out",
    tag: 'auth',
    auth: true,
    status: 204,
    body: schemas.ChangePasswordInput,
    call: (caller, input) => caller.account.changePassword(input as never),
  },
  {
    method: 'GET',
    path: '/auth/sessions',
    summary: "The caller's logins that still stand, the current one marked",
    tag: 'auth',
    auth: true,
    status: 200,
    response: schemas.LoginSessionList,
    call: async (caller) => ({ sessions: await caller.account.sessions() }),
  },
  {
    method: 'DELETE',
    path: '/auth/sessions/{session_id}',
    summary: "Sign out one of the caller's logins (anyone else's is not found)",
    tag: 'auth',
    auth: true,
    status: 204,
    pathParams: z.object({ session_id: z.string() }),
    input: (req) => ({ session_id: req.params.session_id }),
    locate: (path) => ['path', ...path.map((p) => (typeof p === 'number' ? p : String(p)))],
    call: (caller, input) => caller.account.revokeSession(input as never),
  },
  {
    method: 'PATCH',
    path: '/auth/me',
    summary: 'Change the display name (full_name); contacts see it live',
    tag: 'auth',
    auth: true,
    status: 200,
    body: schemas.RenameInput,
    response: schemas.PublicUser,
    call: (caller, input) => caller.account.rename(input as never),
  },
  {
    method: 'DELETE',
    path: '/auth/me',
    summary: 'Delete the account (the password required); its messages stay, from "Deleted user"',
    tag: 'auth',
    auth: true,
    status: 204,
    body: schemas.DeleteAccountInput,
    call: (caller, input) => caller.account.delete(input as never),
  },
  {
    method: 'GET',
    path: '/users',
    summary: 'Everyone but the caller, by username',
    tag: 'users',
    auth: true,
    status: 200,
    queryParams: UsersQuery,
    response: UsersList,
    locate: usersLocate,
    input: (req) =>
      req.query.q === undefined && req.query.limit === undefined && req.query.cursor === undefined
        ? undefined
        : {
            query: req.query.q,
            limit: queryNumber(req.query.limit ?? 50),
            cursor: req.query.cursor,
          },
    call: async (caller, input) => {
      if (input === undefined) return { users: await caller.users.all() };
      return caller.users.list(input as never);
    },
  },
  {
    method: 'GET',
    path: '/conversations',
    summary: "The caller's conversations, most recent activity first",
    tag: 'conversations',
    auth: true,
    status: 200,
    response: ConversationsList,
    call: async (caller) => ({ conversations: await caller.conversations.list() }),
  },
  {
    method: 'POST',
    path: '/conversations',
    summary: 'Create a conversation (two members: the 1-on-1, created once)',
    tag: 'conversations',
    auth: true,
    status: 201,
    body: schemas.CreateConversationInput,
    response: schemas.Conversation,
    idFields: { member_ids: (ids) => unknownId.members(ids) },
    call: (caller, input) => caller.conversations.create(input as never),
  },
  {
    method: 'GET',
    path: '/conversations/{conversation_id}/messages',
    summary: 'The latest messages, ascending; older pages with `before`',
    tag: 'messages',
    auth: true,
    status: 200,
    pathParams: z.object({ conversation_id: schemas.Id }),
    queryParams: HistoryQuery,
    response: schemas.MessagePage,
    locate: historyLocate,
    checksLogin: true,
    input: (req) => ({
      conversation_id: req.params.conversation_id,
      limit: queryNumber(req.query.limit ?? 50),
      cursor: queryNumber(req.query.before),
    }),
    idFields: { conversation_id: () => unknownId.conversation() },
    call: (caller, input) => caller.messages.list(input as never),
  },
  {
    method: 'POST',
    path: '/messages',
    summary: 'Send a message (idempotent per sender and message_id)',
    tag: 'messages',
    auth: true,
    status: 201,
    body: PostMessageBody,
    response: schemas.Message,
    idFields: { conversation_id: () => unknownId.conversation(), reply_to: () => unknownId.replyTo() },
    call: async (caller, input, req) => {
      const { sender_id, ...message } = (typeof input === 'object' && input !== null ? input : {}) as {
        sender_id?: unknown;
      };
      if (sender_id !== undefined && sender_id === req.auth?.user.id)
        return caller.messages.send(message as never);
      // Not the caller's (any string, a UUID or not): 403, unless the body is invalid anyway, which
      // comes first (as in FastAPI). Only this refusal parses here; a send is parsed by its procedure.
      const parsed = AnySenderBody.safeParse(input);
      if (!parsed.success) throw parsed.error;
      throw fail.forbidden(SENDER_MISMATCH);
    },
  },
];
