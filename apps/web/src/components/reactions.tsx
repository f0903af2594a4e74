import { type FormEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { describeError } from '../lib/errors.ts';
import type { Message } from '../lib/types.ts';
import { SmileIcon } from './icons.tsx';

/** The picker's ready choices; anything else goes in its field. */
const COMMON_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

interface ReactionsProps {
  message: Message;
  myId: string;
  /** The add-reaction picker is open (from its button, or the message's menu). */
  picking: boolean;
  /** Opens or closes the picker; on close, `refocus` asks for the focus to go back where it came from. */
  onPicking(open: boolean, refocus: boolean): void;
  /** Resolves once the server took it; rejects with why not. */
  onReact(message: Message, emoji: string, on: boolean): Promise<void>;
  /** Who reacted, by name, for a chip's tooltip. */
  nameOf(id: string): string;
}

/**
 * A message's reaction chips (each toggles mine), with a button that adds
 * one; without reactions yet, only the picker when the message's menu opens
 * it (a message has no tab stop of its own for it).
 */
export function Reactions({ message, myId, picking, onPicking, onReact, nameOf }: ReactionsProps) {
  // Why the last click on a chip was refused (rate limit, a dropped connection): said, not swallowed.
  const [error, setError] = useState<string | null>(null);
  if (message.reactions.length === 0 && !picking) return null;
  const toggle = (emoji: string, on: boolean) => {
    setError(null);
    onReact(message, emoji, on).catch((cause: unknown) => setError(describeError(cause)));
  };
  return (
    <fieldset className="reactions">
      <legend className="sr-only">Reactions</legend>
      {message.reactions.map((reaction) => {
        const mine = reaction.user_ids.includes(myId);
        return (
          <button
            key={reaction.emoji}
            type="button"
            className="reaction-chip"
            aria-pressed={mine}
            // The visible "👍 2" starts the name, as speech input expects.
            aria-label={`${reaction.emoji} ${reaction.count}${mine ? ', you reacted' : ''}`}
            title={reaction.user_ids.map(nameOf).join(', ')}
            onClick={() => toggle(reaction.emoji, !mine)}
          >
            {reaction.emoji} <span className="reaction-count">{reaction.count}</span>
          </button>
        );
      })}
      <ReactionPicker
        withButton={message.reactions.length > 0}
        open={picking}
        onOpen={onPicking}
        onPick={(emoji) => onReact(message, emoji, true)}
      />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

interface ReactionPickerProps {
  /** Whether it has a button of its own (next to chips). */
  withButton: boolean;
  open: boolean;
  onOpen(open: boolean, refocus: boolean): void;
  onPick(emoji: string): Promise<void>;
}

/**
 * "Add reaction": a few common emoji and a field for any other. Escape, or
 * a click elsewhere, closes it; focus goes back to where it was opened from.
 */
function ReactionPicker({ withButton, open, onOpen, onPick }: ReactionPickerProps) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);

  const close = (refocus: boolean) => {
    setText('');
    setError(null);
    if (refocus && buttonRef.current) {
      onOpen(false, false);
      buttonRef.current.focus();
    } else onOpen(false, refocus);
  };

  useEffect(() => {
    if (!open) return;
    panelRef.current?.querySelector<HTMLElement>('button')?.focus();
    const onPointerDown = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panelRef.current?.contains(target) && !buttonRef.current?.contains(target)) close(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  const pick = (emoji: string) => {
    setError(null);
    onPick(emoji).then(
      () => close(true),
      (cause: unknown) => setError(describeError(cause)),
    );
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const emoji = text.trim();
    if (emoji) pick(emoji);
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close(true);
    }
  };

  return (
    <span className="reaction-add">
      {withButton && (
        <button
          ref={buttonRef}
          type="button"
          className="reaction-chip reaction-add-button"
          aria-label="Add reaction"
          aria-haspopup="dialog"
          aria-expanded={open}
          onClick={() => (open ? close(false) : onOpen(true, false))}
        >
          <SmileIcon width={16} height={16} />
        </button>
      )}
      {open && (
        <div
          ref={panelRef}
          className="reaction-picker"
          role="dialog"
          aria-label="Add reaction"
          onKeyDown={onKeyDown}
        >
          <div className="reaction-choices">
            {COMMON_EMOJI.map((emoji) => (
              <button
                key={emoji}
                type="button"
                aria-label={`React with ${emoji}`}
                onClick={() => pick(emoji)}
              >
                {emoji}
              </button>
            ))}
          </div>
          <form className="reaction-other" onSubmit={onSubmit}>
            <input
              className="reaction-other-input"
              aria-label="Other emoji"
              placeholder="Other emoji"
              value={text}
              maxLength={32}
              onChange={(e) => {
                setText(e.target.value);
                setError(null);
              }}
              aria-invalid={error ? true : undefined}
            />
            <button type="submit" className="button small">
              Add
            </button>
          </form>
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
        </div>
      )}
    </span>
  );
}
