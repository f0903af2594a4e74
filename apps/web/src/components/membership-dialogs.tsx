import { type FormEvent, useId, useRef, useState } from 'react';
import { useChat } from '../chat-context.tsx';
import { forgetConversation, receiveConversation, useCache } from '../lib/cache.ts';
import { describeError, toFormErrors } from '../lib/errors.ts';
import type { ConversationListItem } from '../lib/types.ts';
import { trpc } from '../trpc.ts';
import { ConfirmDialog, DialogActions, FormError, Modal } from './modal.tsx';
import { PeopleField, usePeoplePicker } from './people-picker.tsx';

interface GroupDialogProps {
  conversation: ConversationListItem;
  /** The group's name as shown. */
  name: string;
  onClose(): void;
}

/** Adds people to a group by username; any member may. A system line tells everyone. */
export function AddPeopleDialog({ conversation, name, onClose }: GroupDialogProps) {
  const { myId } = useChat();
  const cache = useCache();
  const addMembers = trpc.conversations.addMembers.useMutation();
  const picker = usePeoplePicker({
    refuse: (person) =>
      conversation.members.includes(person.id) ? `${person.username} is already in ${name}.` : null,
  });
  const inputRef = useRef<HTMLInputElement>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setFormError(null);
    try {
      const people = picker.entry.trim() ? await picker.resolve() : picker.people;
      if (!people) {
        inputRef.current?.focus();
        return;
      }
      if (people.length === 0) {
        picker.setError('Type the username of someone to add.');
        inputRef.current?.focus();
        return;
      }
      const updated = await addMembers.mutateAsync({
        conversation_id: conversation.id,
        user_ids: people.map((p) => p.id),
      });
      receiveConversation(cache, updated, myId);
      onClose();
    } catch (error) {
      const errors = toFormErrors(error, ['user_ids'] as const);
      picker.setError(errors.fields.user_ids ?? null);
      setFormError(errors.fields.user_ids ? null : (errors.form ?? describeError(error)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title={`Add people to ${name}`} onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <PeopleField
          picker={picker}
          id={`${ids}-people`}
          label="People"
          hint="Type a username and press Enter. Everyone in the group sees who was added."
          placeholder="Usernames, e.g. dave"
          inputRef={inputRef}
          autoFocus
        />
        <FormError error={formError} />
        <DialogActions onCancel={onClose} busy={busy} label="Add" busyLabel="Adding…" />
      </form>
    </Modal>
  );
}

/** Renames a group; any member may. A system line tells everyone. */
export function RenameDialog({ conversation, onClose }: GroupDialogProps) {
  const { myId } = useChat();
  const cache = useCache();
  const rename = trpc.conversations.rename.useMutation();
  const [title, setTitle] = useState(conversation.title);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    const trimmed = title.trim();
    if (!trimmed) {
      setError('Give the group a name');
      return;
    }
    if (trimmed === conversation.title) {
      onClose();
      return;
    }
    setBusy(true);
    try {
      const updated = await rename.mutateAsync({
        conversation_id: conversation.id,
        title: trimmed,
      });
      receiveConversation(cache, updated, myId);
      onClose();
    } catch (cause) {
      const errors = toFormErrors(cause, ['title'] as const);
      setError(errors.fields.title ?? errors.form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal title="Rename group" onClose={onClose}>
      <form className="dialog-form" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${ids}-title`}>Group name</label>
          <input
            id={`${ids}-title`}
            data-autofocus
            value={title}
            maxLength={200}
            onChange={(e) => {
              setTitle(e.target.value);
              setError(null);
            }}
            onFocus={(e) => e.currentTarget.select()}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${ids}-error` : `${ids}-hint`}
          />
          {error ? (
            <p id={`${ids}-error`} className="field-error" role="alert">
              {error}
            </p>
          ) : (
            <p id={`${ids}-hint`} className="field-hint">
              Everyone in the group sees the new name.
            </p>
          )}
        </div>
        <DialogActions onCancel={onClose} busy={busy} label="Save" busyLabel="Saving…" />
      </form>
    </Modal>
  );
}

/**
 * Leaves a group after asking. It leaves the list here at once and on my
 * other devices with the `conversation` event; the open view closes with it.
 */
export function LeaveDialog({ conversation, name, onClose }: GroupDialogProps) {
  const cache = useCache();
  const leave = trpc.conversations.leave.useMutation();
  return (
    <ConfirmDialog
      title={`Leave ${name}?`}
      confirmLabel="Leave group"
      busyLabel="Leaving…"
      onClose={onClose}
      onConfirm={async () => {
        await leave.mutateAsync({ conversation_id: conversation.id });
        forgetConversation(cache, conversation.id);
      }}
    >
      <p>
        You will stop getting its messages and no longer see its history. Someone in the group can add you
        back.
      </p>
    </ConfirmDialog>
  );
}
