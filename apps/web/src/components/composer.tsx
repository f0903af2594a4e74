import {
  type ClipboardEvent,
  type DragEvent,
  type FormEvent,
  type KeyboardEvent,
  useCallback,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import { useAnnounceTyping, useChat, useSendMessage, useUsers } from '../chat-context.tsx';
import { characterCount, displayName, formatBytes, MAX_MESSAGE_LENGTH } from '../lib/format.ts';
import { quotedText } from '../lib/message-pages.ts';
import type { Message, UploadedFile } from '../lib/types.ts';
import { uploadWithProgress } from '../lib/upload.ts';
import { AttachIcon, CloseIcon, ReplyIcon, SendIcon } from './icons.tsx';

/** A file on its way into the message: uploading, ready, or refused. */
interface Upload {
  key: string;
  name: string;
  size: number;
  /** 0 to 1. */
  progress: number;
  uploaded?: UploadedFile;
  error?: string;
  abort: AbortController;
}

/** Files picked, dropped or pasted, uploaded at once with progress; the message carries the ones that made it. */
function useUploads(conversationId: string) {
  const { client } = useChat();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const change = (key: string, patch: Partial<Upload>) =>
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));
  const add = useCallback(
    (files: Iterable<File>) => {
      for (const file of files) {
        const upload: Upload = {
          key: crypto.randomUUID(),
          name: file.name || 'pasted file',
          size: file.size,
          progress: 0,
          abort: new AbortController(),
        };
        setUploads((list) => [...list, upload]);
        void (async () => {
          try {
            const token = await client.session.accessToken();
            const uploaded = await uploadWithProgress({
              conversationId,
              file,
              name: upload.name,
              token: token ?? '',
              signal: upload.abort.signal,
              onProgress: (progress) => change(upload.key, { progress }),
            });
            change(upload.key, { uploaded, progress: 1 });
          } catch (error) {
            change(upload.key, { error: error instanceof Error ? error.message : 'Upload failed' });
          }
        })();
      }
    },
    [client, conversationId],
  );
  const remove = (key: string) =>
    setUploads((list) => {
      list.find((u) => u.key === key)?.abort.abort();
      return list.filter((u) => u.key !== key);
    });
  return { uploads, add, remove, clear: () => setUploads([]) };
}

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
  const fileInputRef = useRef<HTMLInputElement>(null);
  const counterId = useId();
  const { uploads, add, remove, clear } = useUploads(conversationId);
  const [dragging, setDragging] = useState(false);

  const trimmed = text.trim();
  const count = characterCount(trimmed);
  const tooLong = count > MAX_MESSAGE_LENGTH;
  const ready = uploads.flatMap((u) => (u.uploaded ? [u.uploaded] : []));
  const uploading = uploads.some((u) => !u.uploaded && !u.error);
  const canSend = (count > 0 || ready.length > 0) && !tooLong && !uploading;

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
    send(conversationId, trimmed, { attachments: ready, replyTo: replyingTo });
    onCancelReply();
    setText('');
    clear();
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

  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>) => {
    const files = [...event.clipboardData.files];
    if (files.length === 0) return;
    event.preventDefault();
    add(files);
  };
  const onDrop = (event: DragEvent<HTMLFormElement>) => {
    if (event.dataTransfer.files.length === 0) return;
    event.preventDefault();
    setDragging(false);
    add([...event.dataTransfer.files]);
  };
  const onDragOver = (event: DragEvent<HTMLFormElement>) => {
    if (!event.dataTransfer.types.includes('Files')) return;
    event.preventDefault();
    setDragging(true);
  };

  const replyName = replyingTo
    ? replyingTo.sender_id === myId
      ? 'yourself'
      : displayName(byId.get(replyingTo.sender_id))
    : '';

  return (
    <form
      className="composer"
      onSubmit={onSubmit}
      onDrop={onDrop}
      onDragOver={onDragOver}
      onDragLeave={() => setDragging(false)}
      data-dragging={dragging || undefined}
    >
      {replyingTo && (
        <div className="composer-reply" role="status">
          <ReplyIcon width={16} height={16} />
          <span className="composer-reply-text">
            <span className="composer-reply-name">Replying to {replyName}</span>
            <span className="composer-reply-excerpt">{quotedText(replyingTo)}</span>
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
      {uploads.length > 0 && (
        <ul className="composer-uploads" aria-label="Attached files">
          {uploads.map((u) => (
            <li key={u.key} className="upload-chip" data-failed={u.error ? true : undefined}>
              <span className="upload-name">{u.name}</span>
              <span className="upload-size">{u.error ?? formatBytes(u.size)}</span>
              {!u.uploaded && !u.error && (
                <progress
                  className="upload-progress"
                  max={1}
                  value={u.progress}
                  aria-label={`Uploading ${u.name}`}
                />
              )}
              <button
                type="button"
                className="icon-button upload-remove"
                aria-label={`Remove ${u.name}`}
                onClick={() => remove(u.key)}
              >
                <CloseIcon width={14} height={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      <input
        ref={fileInputRef}
        type="file"
        multiple
        hidden
        aria-hidden="true"
        tabIndex={-1}
        data-testid="file-input"
        onChange={(e) => {
          if (e.target.files) add([...e.target.files]);
          e.target.value = '';
        }}
      />
      <button
        type="button"
        className="attach-button"
        aria-label="Attach files"
        title="Attach files"
        onClick={() => fileInputRef.current?.click()}
      >
        <AttachIcon />
      </button>
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
          onPaste={onPaste}
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
