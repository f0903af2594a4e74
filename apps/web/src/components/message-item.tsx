import {
  type FormEvent,
  type KeyboardEvent,
  memo,
  useCallback,
  useEffect,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { useMessageActions } from '../chat-context.tsx';
import { describeError } from '../lib/errors.ts';
import { characterCount, displayName, formatFull, formatTime, MAX_MESSAGE_LENGTH } from '../lib/format.ts';
import { linkify } from '../lib/links.ts';
import { splitMentions } from '../lib/mentions.ts';
import type { TimelineEntry } from '../lib/message-pages.ts';
import type { Message, MessageQuote, Person } from '../lib/types.ts';
import { Avatar } from './avatar.tsx';
import { AlertIcon, ClockIcon, EditIcon, ReplyIcon, SmileIcon, TrashIcon } from './icons.tsx';
import { Menu, type MenuItem } from './menu.tsx';
import { MessageAttachments } from './message-attachments.tsx';
import { Reactions } from './reactions.tsx';

export function senderOf(entry: TimelineEntry, myId: string): string {
  return entry.kind === 'message' ? entry.message.sender_id : myId;
}

export function timeOf(entry: TimelineEntry): string {
  return entry.kind === 'message' ? entry.message.created_at : entry.pending.created_at;
}

export function isSystem(entry: TimelineEntry): boolean {
  return entry.kind === 'message' && entry.message.kind === 'system';
}

/** Names of the people a message shows: senders of quotes, mentions, who reacted. */
export interface People {
  /** "You" for me. */
  name(id: string): string;
  username(id: string): string | undefined;
}

export interface MessageItemProps {
  entry: TimelineEntry;
  dayLabel: string | null;
  runStart: boolean;
  runEnd: boolean;
  myId: string;
  group: boolean;
  sender: Person | undefined;
  /** A system line in words; null for people's messages. */
  systemText: string | null;
  /** "Seen" goes under this one (1-on-1s). */
  seen: boolean;
  /** Just jumped to from search. */
  highlighted: boolean;
  editing: boolean;
  onRetry(messageId: string): void;
  onDiscard(messageId: string): void;
  onEdit(message: Message | null): void;
  onDelete(message: Message): void;
  onReply(message: Message): void;
  /** Shows the message a reply quotes. */
  onQuote(quote: MessageQuote): void;
  onReact(message: Message, emoji: string, on: boolean): Promise<void>;
  people: People;
}

/** The stored message or the pending one behind an entry; the same object while it is unchanged. */
function payloadOf(entry: TimelineEntry): object {
  return entry.kind === 'message' ? entry.message : entry.pending;
}

/** Re-render a row only when what it shows changed (timeline entries are rebuilt on every update). */
function sameRow(a: MessageItemProps, b: MessageItemProps): boolean {
  return (
    a.entry.key === b.entry.key &&
    payloadOf(a.entry) === payloadOf(b.entry) &&
    a.dayLabel === b.dayLabel &&
    a.runStart === b.runStart &&
    a.runEnd === b.runEnd &&
    a.myId === b.myId &&
    a.group === b.group &&
    a.sender === b.sender &&
    a.systemText === b.systemText &&
    a.seen === b.seen &&
    a.highlighted === b.highlighted &&
    a.editing === b.editing &&
    a.onRetry === b.onRetry &&
    a.onDiscard === b.onDiscard &&
    a.onEdit === b.onEdit &&
    a.onDelete === b.onDelete &&
    a.onReply === b.onReply &&
    a.onQuote === b.onQuote &&
    a.onReact === b.onReact &&
    a.people === b.people
  );
}

function DaySeparator({ label }: { label: string }) {
  return (
    <div className="day-separator">
      <span>{label}</span>
    </div>
  );
}

export const MessageItem = memo(function MessageItem(props: MessageItemProps) {
  const { entry, dayLabel, runStart, runEnd, myId, group, sender, systemText } = props;
  const { seen, highlighted, editing, onRetry, onDiscard, onEdit, onDelete } = props;
  const { onReply, onQuote, onReact, people } = props;
  const rowRef = useRef<HTMLDivElement>(null);
  const wasEditing = useRef(editing);
  const [picking, setPicking] = useState(false);
  const onPicking = useCallback((open: boolean, refocus: boolean) => {
    setPicking(open);
    if (refocus) rowRef.current?.querySelector<HTMLElement>('.menu-button')?.focus();
  }, []);

  // Back from the editor by keyboard: focus returns to the message's menu button, not the page.
  useEffect(() => {
    if (wasEditing.current && !editing && document.activeElement === document.body) {
      rowRef.current?.querySelector<HTMLElement>('.menu-button')?.focus();
    }
    wasEditing.current = editing;
  }, [editing]);

  const createdAt = timeOf(entry);
  const message = entry.kind === 'message' ? entry.message : null;

  if (message && systemText !== null) {
    return (
      <>
        {dayLabel && <DaySeparator label={dayLabel} />}
        <div
          className="message-row system-row"
          data-key={entry.key}
          data-message-id={message.id}
          data-highlight={highlighted || undefined}
        >
          <p className="system-text">
            {systemText}
            <time dateTime={createdAt} title={formatFull(createdAt)}>
              {formatTime(createdAt)}
            </time>
          </p>
        </div>
      </>
    );
  }

  const mine = senderOf(entry, myId) === myId;
  const content = message ? message.content : entry.kind === 'pending' ? entry.pending.content : '';
  const attachments = message
    ? message.attachments
    : entry.kind === 'pending'
      ? (entry.pending.attachments ?? [])
      : [];
  const status = entry.kind === 'pending' ? entry.pending.status : 'sent';
  const senderName = mine ? 'You' : displayName(sender);
  const showSender = group && !mine && runStart;
  const deleted = Boolean(message?.deleted_at);
  const edited = Boolean(message?.edited_at) && !deleted;
  const changeable = mine && message !== null && message.kind === 'user' && !deleted;
  const quote = message
    ? message.reply_to
    : entry.kind === 'pending'
      ? (entry.pending.reply_to ?? null)
      : null;
  const mentionsMe = message !== null && !deleted && message.mentions.includes(myId);
  const mentioned = new Set(
    (message?.mentions ?? []).flatMap((id) => people.username(id)?.toLowerCase() ?? []),
  );
  const actions: MenuItem[] = [];
  if (message && message.kind === 'user' && !deleted)
    actions.push(
      { label: 'Reply', icon: <ReplyIcon width={16} height={16} />, onSelect: () => onReply(message) },
      { label: 'Add reaction', icon: <SmileIcon width={16} height={16} />, onSelect: () => setPicking(true) },
    );
  if (changeable)
    actions.push(
      { label: 'Edit', icon: <EditIcon width={16} height={16} />, onSelect: () => onEdit(message) },
      {
        label: 'Delete',
        icon: <TrashIcon width={16} height={16} />,
        danger: true,
        onSelect: () => onDelete(message),
      },
    );

  // Beside the bubble, on the side away from the edge, opening toward the middle of the conversation.
  const menu = actions.length > 0 && (
    <Menu
      label="Message actions"
      className="message-actions"
      items={actions}
      align={mine ? 'end' : 'start'}
    />
  );

  return (
    <>
      {dayLabel && <DaySeparator label={dayLabel} />}
      <div
        ref={rowRef}
        className="message-row"
        data-key={entry.key}
        data-message-id={message?.id}
        data-mine={mine || undefined}
        data-run-start={runStart || undefined}
        data-run-end={runEnd || undefined}
        data-status={status}
        data-deleted={deleted || undefined}
        data-highlight={highlighted || undefined}
        data-mentions-me={mentionsMe || undefined}
      >
        {group && !mine && (
          <div className="message-avatar">
            {runStart && <Avatar id={senderOf(entry, myId)} name={senderName} size="sm" />}
          </div>
        )}
        <div className="message-stack">
          {showSender && (
            <div className="message-sender" aria-hidden="true">
              {senderName}
            </div>
          )}
          {editing && message ? (
            <MessageEditor message={message} onDone={() => onEdit(null)} />
          ) : (
            <div className="bubble-line">
              {mine && menu}
              <div className="bubble" title={formatFull(createdAt)}>
                <span className="sr-only">{senderName}: </span>
                {quote && <Quote quote={quote} people={people} onQuote={onQuote} />}
                {mentionsMe && <span className="sr-only">Mentions you. </span>}
                {deleted ? (
                  <p className="message-text message-deleted">Message deleted</p>
                ) : (
                  <>
                    <MessageAttachments files={attachments} />
                    {content && (
                      <p className="message-text">
                        {linkify(content).map((part, i) =>
                          part.kind === 'link' ? (
                            <a key={i} href={part.href} target="_blank" rel="noopener noreferrer">
                              {part.text}
                            </a>
                          ) : (
                            splitMentions(part.text, mentioned).map((piece, j) =>
                              piece.kind === 'mention' ? (
                                <span
                                  key={`${i}-${j}`}
                                  className="mention"
                                  data-me={
                                    piece.username === people.username(myId)?.toLowerCase() || undefined
                                  }
                                >
                                  {piece.text}
                                </span>
                              ) : (
                                piece.text
                              ),
                            )
                          ),
                        )}
                      </p>
                    )}
                  </>
                )}
                <span className="message-meta">
                  {edited && (
                    <span
                      className="message-edited"
                      title={message?.edited_at ? `Edited ${formatFull(message.edited_at)}` : undefined}
                    >
                      (edited)
                    </span>
                  )}
                  <time dateTime={createdAt}>{formatTime(createdAt)}</time>
                  {status === 'sending' && (
                    <span className="message-pending">
                      <ClockIcon width={12} height={12} />
                      <span className="sr-only">Sending</span>
                    </span>
                  )}
                </span>
              </div>
              {!mine && menu}
            </div>
          )}
          {message && message.kind === 'user' && !deleted && !editing && (
            <Reactions
              message={message}
              myId={myId}
              picking={picking}
              onPicking={onPicking}
              onReact={onReact}
              nameOf={people.name}
            />
          )}
          {status === 'failed' && entry.kind === 'pending' && (
            <div className="message-failed" role="alert">
              <AlertIcon width={14} height={14} />
              <span>Not sent{entry.pending.error ? ` (${entry.pending.error})` : ''}</span>
              <button
                type="button"
                className="link-button"
                aria-label="Retry sending message"
                onClick={() => onRetry(entry.pending.message_id)}
              >
                Retry
              </button>
              <button
                type="button"
                className="link-button muted"
                aria-label="Delete unsent message"
                onClick={() => onDiscard(entry.pending.message_id)}
              >
                Delete
              </button>
            </div>
          )}
          {seen && <div className="receipt">Seen</div>}
        </div>
      </div>
    </>
  );
}, sameRow);

/** The message a reply answers, quoted above it; a click shows the original. */
function Quote({
  quote,
  people,
  onQuote,
}: {
  quote: MessageQuote;
  people: People;
  onQuote(quote: MessageQuote): void;
}) {
  const name = people.name(quote.sender_id);
  const text = quote.deleted ? 'Message deleted' : (quote.excerpt ?? '');
  return (
    <button
      type="button"
      className="reply-quote"
      data-deleted={quote.deleted || undefined}
      title="Show the original"
      onClick={() => onQuote(quote)}
    >
      <span className="sr-only">In reply to {name}: </span>
      <span className="reply-quote-name" aria-hidden="true">
        {name}
      </span>
      <span className="reply-quote-text">{text}</span>
    </button>
  );
}

const EDITOR_MAX_HEIGHT_PX = 220;

/** Edits my message in place: Enter saves, Shift+Enter breaks the line, Escape cancels. */
function MessageEditor({ message, onDone }: { message: Message; onDone(): void }) {
  const { edit } = useMessageActions();
  const [text, setText] = useState(message.content);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, EDITOR_MAX_HEIGHT_PX)}px`;
  }, [text]);

  const save = async () => {
    if (busy) return;
    const trimmed = text.trim();
    if (!trimmed) {
      setError('A message cannot be empty. Delete it instead.');
      return;
    }
    if (characterCount(trimmed) > MAX_MESSAGE_LENGTH) {
      setError(`At most ${MAX_MESSAGE_LENGTH} characters.`);
      return;
    }
    if (trimmed === message.content) {
      onDone();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await edit(message, trimmed);
      onDone();
    } catch (cause) {
      setError(describeError(cause));
      setBusy(false);
    }
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    void save();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      void save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      onDone();
    }
  };

  return (
    <form className="message-editor" onSubmit={onSubmit}>
      <textarea
        ref={ref}
        rows={1}
        aria-label="Edit message"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setError(null);
        }}
        onKeyDown={onKeyDown}
        aria-invalid={error ? true : undefined}
        readOnly={busy}
      />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <div className="editor-footer">
        <span className="editor-hint">Enter to save · Esc to cancel</span>
        <button type="button" className="button small" onClick={onDone}>
          Cancel
        </button>
        <button type="submit" className="button small primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
