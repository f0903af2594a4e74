import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { useChat, useMe, useUsers } from '../chat-context.tsx';
import { queryKeys, receiveConversation } from '../lib/cache.ts';
import { describeError, toFormErrors } from '../lib/errors.ts';
import { displayName } from '../lib/format.ts';
import type { User } from '../lib/types.ts';
import { Avatar } from './avatar.tsx';
import { CloseIcon } from './icons.tsx';

interface NewGroupDialogProps {
  open: boolean;
  onClose(): void;
  onCreated(conversationId: string): void;
}

/** Splits "alice, @bob carol" into usernames. */
function parseUsernames(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((word) => word.replace(/^@/, '').trim())
    .filter(Boolean);
}

/**
 * A group: a title and at least two other people, added by username. The
 * server adds me. (Two members in all would make a 1-on-1, so the dialog asks for two others.)
 */
export function NewGroupDialog({ open, onClose, onCreated }: NewGroupDialogProps) {
  const { api, myId } = useChat();
  const queryClient = useQueryClient();
  const { users } = useUsers();
  const me = useMe();
  const dialogRef = useRef<HTMLDialogElement>(null);
  const participantInputRef = useRef<HTMLInputElement>(null);
  const [title, setTitle] = useState('');
  const [entry, setEntry] = useState('');
  const [members, setMembers] = useState<User[]>([]);
  const [titleError, setTitleError] = useState<string | null>(null);
  const [membersError, setMembersError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      setTitle('');
      setEntry('');
      setMembers([]);
      setTitleError(null);
      setMembersError(null);
      setFormError(null);
      dialog.showModal();
      // Suggest people who signed up since the list was fetched.
      void queryClient.invalidateQueries({ queryKey: queryKeys.users });
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open, queryClient]);

  /**
   * Resolves typed usernames; adds the known ones and reports the first
   * unknown. An unknown name may belong to someone who signed up since the
   * people list was fetched, so it is fetched again once before giving up.
   */
  const addFromText = async (text: string): Promise<User[] | null> => {
    const names = parseUsernames(text).filter(
      (name) => name.toLowerCase() !== me.data?.username.toLowerCase(),
    );
    const find = (list: readonly User[], name: string) =>
      list.find((u) => u.username.toLowerCase() === name.toLowerCase());
    let known = users;
    if (names.some((name) => !find(known, name))) {
      known = await queryClient
        .fetchQuery({ queryKey: queryKeys.users, queryFn: () => api.users.list.query(), staleTime: 0 })
        .catch(() => known);
    }
    const added = [...members];
    for (const [index, name] of names.entries()) {
      const user = find(known, name);
      if (!user) {
        setMembers(added);
        setEntry(names.slice(index).join(' '));
        setMembersError(`No one is called “${name}”. Check the username and try again.`);
        return null;
      }
      if (!added.some((m) => m.id === user.id)) added.push(user);
    }
    setMembers(added);
    setEntry('');
    setMembersError(null);
    return added;
  };

  const onEntryKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if ((event.key === 'Enter' || event.key === ',') && entry.trim()) {
      event.preventDefault();
      void addFromText(entry);
    } else if (event.key === 'Backspace' && entry === '' && members.length > 0) {
      setMembers(members.slice(0, -1));
    }
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    const resolved = entry.trim() ? await addFromText(entry) : members;
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
    setMembersError(tooFew);
    if (missingTitle || tooFew) return;

    setBusy(true);
    setFormError(null);
    try {
      const conversation = await api.conversations.create.mutate({
        title: trimmedTitle,
        member_ids: resolved.map((u) => u.id),
      });
      receiveConversation(queryClient, conversation, myId);
      onClose();
      onCreated(conversation.id);
    } catch (error) {
      const errors = toFormErrors(error, ['title', 'member_ids'] as const);
      setTitleError(errors.fields.title ?? null);
      setMembersError(errors.fields.member_ids ?? null);
      setFormError(
        errors.form ?? (errors.fields.title || errors.fields.member_ids ? null : describeError(error)),
      );
    } finally {
      setBusy(false);
    }
  };

  const suggestions = users.filter((u) => !members.some((m) => m.id === u.id));

  return (
    <dialog ref={dialogRef} className="dialog" aria-labelledby={`${ids}-title`} onClose={onClose}>
      <form className="dialog-body" onSubmit={submit} noValidate>
        <header className="dialog-header">
          <h2 id={`${ids}-title`}>New group</h2>
          <button type="button" className="icon-button" aria-label="Close" onClick={onClose}>
            <CloseIcon />
          </button>
        </header>

        <div className="field">
          <label htmlFor={`${ids}-name`}>Group name</label>
          <input
            id={`${ids}-name`}
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

        <div className="field">
          <label htmlFor={`${ids}-people`}>Participants</label>
          <div className="chip-input" data-invalid={membersError ? true : undefined}>
            {members.map((user) => (
              <span key={user.id} className="chip">
                <Avatar id={user.id} name={displayName(user)} size="sm" />
                {user.username}
                <button
                  type="button"
                  className="chip-remove"
                  aria-label={`Remove ${user.username}`}
                  onClick={() => setMembers(members.filter((m) => m.id !== user.id))}
                >
                  <CloseIcon width={14} height={14} />
                </button>
              </span>
            ))}
            <input
              ref={participantInputRef}
              id={`${ids}-people`}
              list={`${ids}-usernames`}
              value={entry}
              placeholder={members.length === 0 ? 'Usernames, e.g. alice bob' : 'Add another'}
              autoCapitalize="none"
              autoComplete="off"
              spellCheck={false}
              onChange={(e) => {
                setEntry(e.target.value);
                setMembersError(null);
              }}
              onKeyDown={onEntryKeyDown}
              aria-invalid={membersError ? true : undefined}
              aria-describedby={membersError ? `${ids}-people-error` : `${ids}-people-hint`}
            />
            <datalist id={`${ids}-usernames`}>
              {suggestions.map((u) => (
                <option key={u.id} value={u.username}>
                  {displayName(u)}
                </option>
              ))}
            </datalist>
          </div>
          {membersError ? (
            <p id={`${ids}-people-error`} className="field-error" role="alert">
              {membersError}
            </p>
          ) : (
            <p id={`${ids}-people-hint`} className="field-hint">
              Type a username and press Enter. You are added automatically.
            </p>
          )}
        </div>

        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}

        <footer className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy} aria-busy={busy}>
            {busy ? 'Creating…' : 'Create group'}
          </button>
        </footer>
      </form>
    </dialog>
  );
}
