import type { RouterInputs, RouterOutputs } from '@pneumatic/api';

export type Me = RouterOutputs['auth']['me'];
export type User = RouterOutputs['users']['list'][number];
export type ConversationListItem = RouterOutputs['conversations']['list'][number];
export type Conversation = RouterOutputs['conversations']['get'];
export type Message = RouterOutputs['messages']['send'];
export type MessagePage = RouterOutputs['messages']['list'];
export type SendMessageInput = RouterInputs['messages']['send'];
