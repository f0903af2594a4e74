import {
  type FormEvent,
  type KeyboardEvent,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { useAnnounceTyping, useChat, useSendMessage, useUsers } from '../chat-context.tsx';
import { characterCount, displayName, MAX_MESSAGE_LENGTH } from '../lib/format.ts';
import type { Message } from '../lib/types.ts';
import { CloseIcon, ReplyIcon, SendIcon } from './icons.tsx';

/** Unsent text per conversation, kept while switching between them. */
const drafts = new Map<string, string>();
/** The counter appears this close to the limit. */
const COUNTER_FROM = MAX_MESSAGE_LENGTH - 500;
const MAX_HEIGHT_PX = 180;

interface ComposerProps {
  conversationId: string;
  placeholder: string;
  /** The message being answered; Escape or the cancel button lets it go. */
  replyingTo: Message | null;
  onCancelReply(): void;
}

export function Composer({ conversationId, placeholder, replyingTo, onCancelReply }: ComposerProps) {
  const { myId } = useChat();
  const { byId } = useUsers();
  const { send } = useSendMessage();
  const announceTyping = useAnnounceTyping(conversationId);
  const draftKey = `${myId}:${conversationId}`;
  const [text, setText] = useState(() => drafts.get(draftKey) ?? '');
  const textareaRef = useRef<HTMLTextAreaElement>(null);
  const counterId = useId();

  const trimmed = text.trim();
  const count = characterCount(trimmed);
  const tooLong = count > MAX_MESSAGE_LENGTH;
  const canSend = count > 0 && !tooLong;

  useEffect(() => {
    drafts.set(draftKey, text);
  }, [draftKey, text]);

  // Focus on open where there is a keyboard anyway; on touch screens it would cover the conversation.
  useEffect(() => {
    if (window.matchMedia('(pointer: fine)').matches) textareaRef.current?.focus();
  }, []);

  // Answering a message is writing: the box takes the focus.
  useEffect(() => {
    if (replyingTo) textareaRef.current?.focus();
  }, [replyingTo]);

  // Grow with the text up to a few lines, then scroll.
  useLayoutEffect(() => {
    const el = textareaRef.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_HEIGHT_PX)}px`;
  }, [text]);

  const submit = () => {
    if (!canSend) return;
    send(conversationId, trimmed, replyingTo);
    onCancelReply();
    setText('');
    textareaRef.current?.focus();
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    // Enter sends, Shift+Enter breaks the line; an IME composing text keeps its Enter.
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === 'Escape' && replyingTo) {
      event.preventDefault();
      onCancelReply();
    }
  };

  const replyName = replyingTo
    ? replyingTo.sender_id === myId
      ? 'yourself'
      : displayName(byId.get(replyingTo.sender_id))
    : '';

  return (
    <form className="composer" onSubmit={onSubmit}>
      {replyingTo && (
        <div className="composer-reply" role="status">
          <ReplyIcon width={16} height={16} />
          <span className="composer-reply-text">
            <span className="composer-reply-name">Replying to {replyName}</span>
            <span className="composer-reply-excerpt">{replyingTo.content}</span>
          </span>
          <button
            type="button"
            className="icon-button"
            aria-label="Cancel reply"
            title="Cancel reply (Esc)"
            onClick={() => {
              onCancelReply();
              textareaRef.current?.focus();
            }}
          >
            <CloseIcon width={16} height={16} />
          </button>
        </div>
      )}
      <div className="composer-field">
        <textarea
          ref={textareaRef}
          rows={1}
          aria-label="Message"
          placeholder={placeholder}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            announceTyping(e.target.value);
          }}
          onKeyDown={onKeyDown}
          aria-invalid={tooLong || undefined}
          aria-describedby={count >= COUNTER_FROM ? counterId : undefined}
          enterKeyHint="send"
        />
        {count >= COUNTER_FROM && (
          <span id={counterId} className="composer-counter" data-over={tooLong || undefined}>
            {tooLong
              ? `${count - MAX_MESSAGE_LENGTH} characters over the limit`
              : `${MAX_MESSAGE_LENGTH - count} left`}
          </span>
        )}
      </div>
      <button
        type="submit"
        className="send-button"
        aria-label="Send message"
        title="Send (Enter)"
        disabled={!canSend}
      >
        <SendIcon />
      </button>
    </form>
  );
}
