import { useChat, useUsers } from '../chat-context.tsx';
import { conversationName, displayName } from '../lib/format.ts';
import type { ConversationListItem } from '../lib/types.ts';
import { Composer } from './composer.tsx';
import { ConversationHeader } from './conversation-header.tsx';
import { type JumpTarget, MessageList } from './message-list.tsx';

interface ConversationViewProps {
  conversation: ConversationListItem;
  onBack(): void;
  onOpen(conversationId: string): void;
  /** A message to scroll to and highlight (from search). */
  jumpTo: JumpTarget | null;
  onJumped(): void;
}

export function ConversationView({ conversation, onBack, onOpen, jumpTo, onJumped }: ConversationViewProps) {
  const { myId } = useChat();
  const { byId } = useUsers();
  const name = conversationName(conversation, myId, byId);
  const group = conversation.kind === 'group';
  const otherId = group ? undefined : conversation.members.find((id) => id !== myId);

  return (
    <section className="conversation" aria-labelledby={`title-${conversation.id}`}>
      <ConversationHeader
        conversation={conversation}
        name={name}
        users={byId}
        onBack={onBack}
        onOpen={onOpen}
      />
      <MessageList
        conversation={conversation}
        conversationName={name}
        users={byId}
        jumpTo={jumpTo}
        onJumped={onJumped}
      />
      <Composer
        conversationId={conversation.id}
        placeholder={`Message ${group ? name : displayName(otherId ? byId.get(otherId) : undefined)}`}
      />
    </section>
  );
}
