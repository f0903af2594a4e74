export type {
  Conversation,
  ConversationListItem,
  Message,
  MessagePage,
  SendMessageInput,
  User,
} from '@pneumatic/client';
