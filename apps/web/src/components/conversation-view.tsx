import { useCallback, useState } from 'react';
import { useChat, useUsers } from '../chat-context.tsx';
import { conversationName, displayName } from '../lib/format.ts';
import type { ConversationListItem, Message, MessageQuote } from '../lib/types.ts';
import { Composer } from './composer.tsx';
import { ConversationHeader } from './conversation-header.tsx';
import { type JumpTarget, MessageList } from './message-list.tsx';

interface ConversationViewProps {
  conversation: ConversationListItem;
  onBack(): void;
  onOpen(conversationId: string): void;
  /** A message to scroll to and highlight (from search, or a reply's quote). */
  jumpTo: JumpTarget | null;
  onJump(target: Omit<JumpTarget, 'nonce'>): void;
  onJumped(): void;
}

export function ConversationView(props: ConversationViewProps) {
  const { conversation, onBack, onOpen, jumpTo, onJump, onJumped } = props;
  const { myId } = useChat();
  const { byId } = useUsers();
  const name = conversationName(conversation, myId, byId);
  const group = conversation.kind === 'group';
  const otherId = group ? undefined : conversation.members.find((id) => id !== myId);
  /** The message the composer answers. */
  const [replyingTo, setReplyingTo] = useState<Message | null>(null);
  const cancelReply = useCallback(() => setReplyingTo(null), []);
  // A quote's original may be far back: its seq is not known, so older pages load until it shows.
  const showQuoted = useCallback(
    (quote: MessageQuote) => onJump({ conversationId: conversation.id, messageId: quote.id, seq: 0 }),
    [onJump, conversation.id],
  );

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
        onReply={setReplyingTo}
        onQuote={showQuoted}
      />
      <Composer
        conversationId={conversation.id}
        replyingTo={replyingTo}
        onCancelReply={cancelReply}
        placeholder={`Message ${group ? name : displayName(otherId ? byId.get(otherId) : undefined)}`}
      />
    </section>
  );
}
