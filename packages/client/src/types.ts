import type { TRPCClient, TRPCClientError } from '@trpc/client';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import type { PneumaticErrorShape, PneumaticProcedures } from './api-types.ts';
import type { RouterFromProcedures } from './router.ts';

export type { PneumaticErrorShape, PneumaticProcedures };

/** The Pneumatic API as a tRPC router type, without server internals: use it with tRPC's own helpers. */
export type PneumaticRouter = RouterFromProcedures<PneumaticProcedures, PneumaticErrorShape>;

/** The typed tRPC client: `api.messages.send.mutate(…)`, `api.events.stream.subscribe(…)`, … */
export type PneumaticApi = TRPCClient<PneumaticRouter>;

/** What each procedure takes, by path: `RouterInputs['messages']['send']`. */
export type RouterInputs = inferRouterInputs<PneumaticRouter>;
/** What each query and mutation returns, by path: `RouterOutputs['messages']['list']`. */
export type RouterOutputs = inferRouterOutputs<PneumaticRouter>;

/** An error a call failed with: `error.data?.code` is the tRPC code, `error.data?.zodError` the field errors. */
export type PneumaticClientError = TRPCClientError<PneumaticRouter>;

/** An access and refresh token, as `auth.login` and `auth.refresh` return them. */
export type TokenPairResponse = RouterOutputs['auth']['login'];
/** A person: `id`, `username`, `full_name`. */
export type User = RouterOutputs['auth']['me'];
/** A conversation as every member sees it. */
export type Conversation = RouterOutputs['conversations']['get'];
/** A conversation in the caller's list, with the caller's read state. */
export type ConversationListItem = RouterOutputs['conversations']['list'][number];
/** A stored message; `seq` orders a conversation without gaps. */
export type Message = RouterOutputs['messages']['send'];
/** A file a message carries: `url` downloads it with a bearer token; images have `width`/`height`. */
export type Attachment = Message['attachments'][number];
/** An upload, pending until a message of the uploader carries it. */
export type UploadedFile = Attachment & { conversation_id: string; created_at: string };
/** A page of history, oldest first; pass `next_cursor` as `cursor` for the page before (null at the start). */
export type MessagePage = RouterOutputs['messages']['list'];
export type SignupInput = RouterInputs['auth']['signup'];
export type LoginInput = RouterInputs['auth']['login'];
export type CreateConversationInput = RouterInputs['conversations']['create'];
export type SendMessageInput = RouterInputs['messages']['send'];
export type ListMessagesInput = RouterInputs['messages']['list'];
/** One of the user's logins in `account.sessions`; `current` marks the one the client uses. */
export type LoginSession = RouterOutputs['account']['sessions'][number];
/** A page of `users.list`; pass `next_cursor` as `cursor` for the next page (null on the last). */
export type UserPage = RouterOutputs['users']['list'];

/**
 * What the per-user event stream yields, told apart by `type`: `message` (new), `conversation`
 * (created, changed, or the user was added), `resync` (too much missed: refetch), and the others
 * the server sends (edits, deletions, read positions, typing, presence, `mute`: the user muted
 * or unmuted a conversation on one of their devices, and `user`: a contact's new display name).
 */
export type StreamEvent = PneumaticProcedures['events']['stream']['event'];
