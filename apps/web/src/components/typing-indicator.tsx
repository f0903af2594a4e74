import { useChat, useTyping } from '../chat-context.tsx';
import { displayName } from '../lib/format.ts';
import type { Person } from '../lib/types.ts';
import { describeTyping, typingUserIds } from '../lib/typing.ts';

interface TypingIndicatorProps {
  conversationId: string;
  users: ReadonlyMap<string, Person>;
}

/** "Bob is typing…" over the bottom of the messages; it goes away by itself when they stop. */
export function TypingIndicator({ conversationId, users }: TypingIndicatorProps) {
  const { myId } = useChat();
  const typing = useTyping(conversationId);
  const names = typingUserIds(typing, myId).map((id) => displayName(users.get(id)).split(' ')[0] ?? '');
  const text = describeTyping(names);
  return (
    <div className="typing-indicator" role="status" aria-live="polite" data-active={text ? true : undefined}>
      {text && (
        <>
          <span className="typing-dots" aria-hidden="true">
            <span />
            <span />
            <span />
          </span>
          {text}
        </>
      )}
    </div>
  );
}
