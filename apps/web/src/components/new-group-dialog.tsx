import { type FormEvent, useId, useRef, useState } from 'react';
import { useChat } from '../chat-context.tsx';
import { receiveConversation, useCache } from '../lib/cache.ts';
import { describeError, toFormErrors } from '../lib/errors.ts';
import type { Person } from '../lib/types.ts';
import { trpc } from '../trpc.ts';
import { DialogActions, FormError, Modal } from './modal.tsx';
import { PeopleField, usePeoplePicker } from './people-picker.tsx';

interface NewGroupDialogProps {
  /** People already picked, e.g. the other member of a 1-on-1 that wants to grow. */
  initialMembers?: Person[];
  /** Said above the form, e.g. why this is a new group. */
  notice?: string;
  onClose(): void;
  onCreated(conversationId: string): void;
}

/**
 * A group: a title and at least two other people, added by username. The
 * server adds me. (Two members in all would make a 1-on-1, so the dialog asks for two others.)
 */
export function NewGroupDialog({ initialMembers, notice, onClose, onCreated }: NewGroupDialogProps) {
  const { myId } = useChat();
  const cache = useCache();
  const create = trpc.conversations.create.useMutation();
  const picker = usePeoplePicker({ initial: initialMembers });
  const participantInputRef = useRef<HTMLInputElement>(null);
  const [title, setTitle] = useState('');
  const [titleError, setTitleError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const resolved = picker.entry.trim() ? await picker.resolve() : picker.people;
    setBusy(false);
    if (!resolved) {
      participantInputRef.current?.focus();
      return;
    }
    const trimmedTitle = title.trim();
    const missingTitle = trimmedTitle ? null : 'Give the group a name';
    const tooFew =
      resolved.length < 2
        ? 'Add at least two people. For a chat with one person, open them from People.'
        : null;
    setTitleError(missingTitle);
    picker.setError(tooFew);
    if (missingTitle || tooFew) return;

    setBusy(true);
    setFormError(null);
    try {
      const conversation = await create.mutateAsync({
        title: trimmedTitle,
        member_ids: resolved.map((u) => u.id),
      });
      receiveConversation(cache, conversation, myId);
      onClose();
      onCreated(conversation.id);
    } catch (error) {
      const errors = toFormErrors(error, ['title', 'member_ids'] as const);
      setTitleError(errors.fields.title ?? null);
      picker.setError(errors.fields.member_ids ?? null);
      setFormError(
        errors.form ?? (errors.fields.title || errors.fields.member_ids ? null : describeError(error)),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="New group" onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        {notice && <p className="dialog-notice">{notice}</p>}
        <div className="field">
          <label htmlFor={`${ids}-name`}>Group name</label>
          <input
            id={`${ids}-name`}
            data-autofocus
            value={title}
            maxLength={200}
            placeholder="Weekend plans"
            onChange={(e) => {
              setTitle(e.target.value);
              setTitleError(null);
            }}
            aria-invalid={titleError ? true : undefined}
            aria-describedby={titleError ? `${ids}-name-error` : undefined}
          />
          {titleError && (
            <p id={`${ids}-name-error`} className="field-error">
              {titleError}
            </p>
          )}
        </div>

        <PeopleField
          picker={picker}
          id={`${ids}-people`}
          label="Participants"
          hint="Type a username and press Enter. You are added automatically."
          placeholder="Usernames, e.g. alice bob"
          inputRef={participantInputRef}
        />

        <FormError error={formError} />

        <DialogActions onCancel={onClose} busy={busy} label="Create group" busyLabel="Creating…" />
      </form>
    </Modal>
  );
}
