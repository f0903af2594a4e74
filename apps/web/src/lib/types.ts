import type { Message, RouterOutputs, StreamEvent } from '@pneumatic/client';

export type {
  Attachment,
  Conversation,
  ConversationListItem,
  Message,
  MessagePage,
  SendMessageInput,
  StreamEvent,
  UploadedFile,
  User,
  UserPage,
} from '@pneumatic/client';

/** Someone in the people list (`users.list`): a user, and whether they are online now. */
export type Person = RouterOutputs['users']['list']['users'][number];

/** Someone looked up by id (`users.get`): deleted accounts included, named "Deleted user". */
export type KnownPerson = RouterOutputs['users']['get'][number];

/** What a search finds: the message and an excerpt with its matches marked. */
export type SearchResult = RouterOutputs['messages']['search']['results'][number];
export type SearchResults = RouterOutputs['messages']['search'];

/** A member's read position moved (mine from another device, or someone else's). */
export type ReadEvent = Extract<StreamEvent, { type: 'read' }>;

/** The message a reply answers, as the reply quotes it. */
export type MessageQuote = NonNullable<Message['reply_to']>;

/** A message's reactions changed (`messages.react`'s answer, and the `reaction` event). */
export type ReactionsChange = Omit<Extract<StreamEvent, { type: 'reaction' }>, 'type'>;
