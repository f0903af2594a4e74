import { useEffect } from 'react';
import { useChat, useMe, useUsers } from '../chat-context.tsx';
import { conversationName, displayName } from '../lib/format.ts';
import type { ConversationListItem, User } from '../lib/types.ts';
import { Avatar } from './avatar.tsx';
import { Composer } from './composer.tsx';
import { BackIcon } from './icons.tsx';
import { MessageList } from './message-list.tsx';

interface ConversationViewProps {
  conversation: ConversationListItem;
  onBack(): void;
}

const NAMES_IN_SUBTITLE = 4;

function groupSubtitle(
  conversation: ConversationListItem,
  myId: string,
  users: ReadonlyMap<string, User>,
): string {
  const others = conversation.members.filter((id) => id !== myId).map((id) => displayName(users.get(id)));
  const shown = others.slice(0, NAMES_IN_SUBTITLE);
  const rest = others.length - shown.length;
  return [...shown, rest > 0 ? `${rest} more` : null, 'you'].filter(Boolean).join(', ');
}

export function ConversationView({ conversation, onBack }: ConversationViewProps) {
  const { myId, readMarkers } = useChat();
  const { byId } = useUsers();
  const me = useMe();
  const name = conversationName(conversation, myId, byId);
  const group = conversation.kind === 'group';
  const otherId = group ? undefined : conversation.members.find((id) => id !== myId);
  const other = otherId ? byId.get(otherId) : undefined;
  const subtitle = group
    ? groupSubtitle(conversation, myId, byId)
    : other
      ? `@${other.username}`
      : me.data
        ? 'Direct message'
        : '';

  // Reading is seeing: while this conversation is on screen, everything in it counts as read.
  useEffect(() => {
    const markRead = () => {
      if (document.visibilityState === 'visible')
        readMarkers.markRead(conversation.id, conversation.last_seq);
    };
    markRead();
    document.addEventListener('visibilitychange', markRead);
    return () => document.removeEventListener('visibilitychange', markRead);
  }, [conversation.id, conversation.last_seq, readMarkers]);

  return (
    <section className="conversation" aria-labelledby={`title-${conversation.id}`}>
      <header className="conversation-header">
        <button
          type="button"
          className="icon-button back-button"
          aria-label="Back to conversations"
          onClick={onBack}
        >
          <BackIcon />
        </button>
        <Avatar id={otherId ?? conversation.id} name={name} group={group} />
        <div className="conversation-title">
          <h2 id={`title-${conversation.id}`}>
            {group && (
              <span className="group-mark" role="img" aria-label="Group">
                👥
              </span>
            )}
            {name}
          </h2>
          {subtitle && <p className="muted">{subtitle}</p>}
        </div>
      </header>
      <MessageList conversation={conversation} conversationName={name} users={byId} />
      <Composer
        conversationId={conversation.id}
        placeholder={`Message ${group ? name : displayName(other)}`}
      />
    </section>
  );
}
