import { useState } from 'react';
import { useChat } from '../chat-context.tsx';
import { receiveConversation, useCache } from '../lib/cache.ts';
import { describeError } from '../lib/errors.ts';
import { displayName } from '../lib/format.ts';
import type { Conversation, ConversationListItem, Person } from '../lib/types.ts';
import { trpc } from '../trpc.ts';
import { Avatar } from './avatar.tsx';
import { FormError, Modal } from './modal.tsx';
import './members.css';

type Role = ConversationListItem['roles'][string] | undefined;

const ROLE_NAMES = { owner: 'Owner', admin: 'Admin' } as const;

/** What I may do to another member: the owner anything to anyone but themself, an admin remove plain members. */
function allowed(mine: Role, theirs: Role) {
  return {
    remove: mine === 'owner' ? theirs !== 'owner' : mine === 'admin' && theirs === undefined,
    changeRole: mine === 'owner' && theirs !== 'owner',
  };
}

/** A button on a member's row; the row's name describes it ("Remove", for Carol Danvers). */
function ActionButton(props: {
  label: string;
  describedBy: string;
  disabled: boolean;
  danger?: boolean;
  onClick(): Promise<void>;
}) {
  return (
    <button
      type="button"
      className={props.danger ? 'button danger' : 'button'}
      aria-describedby={props.describedBy}
      disabled={props.disabled}
      onClick={() => void props.onClick()}
    >
      {props.label}
    </button>
  );
}

interface MembersDialogProps {
  conversation: ConversationListItem;
  name: string;
  users: ReadonlyMap<string, Person>;
  onClose(): void;
}

/**
 * The group's members with their roles, and Remove / Make admin for those I
 * may act on. Every change is a system line for everyone; the list follows
 * live, since `conversation` is the cached one.
 */
export function MembersDialog({ conversation, name, users, onClose }: MembersDialogProps) {
  const { myId } = useChat();
  const cache = useCache();
  const removeMember = trpc.conversations.removeMember.useMutation();
  const setRole = trpc.conversations.setRole.useMutation();
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const mine = conversation.roles[myId];
  const nameOf = (id: string) => (id === myId ? 'You' : displayName(users.get(id)));

  const act = async (userId: string, change: () => Promise<Conversation>, done: string) => {
    setBusy(userId);
    setError(null);
    try {
      receiveConversation(cache, await change(), myId);
      setStatus(done);
    } catch (cause) {
      setError(describeError(cause));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Modal title={`Members of ${name}`} onClose={onClose}>
      <ul className="member-list" aria-label="Members">
        {conversation.members.map((id) => {
          const role = conversation.roles[id];
          const may = id === myId ? { remove: false, changeRole: false } : allowed(mine, role);
          const labelId = `member-${conversation.id}-${id}`;
          return (
            <li key={id} className="member-row">
              <Avatar id={id} name={nameOf(id)} online={users.get(id)?.online} />
              <span className="member-name" id={labelId}>
                {nameOf(id)}
                {role && <span className="role-badge">{ROLE_NAMES[role]}</span>}
              </span>
              {may.changeRole && (
                <ActionButton
                  label={role === 'admin' ? 'Remove admin' : 'Make admin'}
                  describedBy={labelId}
                  disabled={busy !== null}
                  onClick={() =>
                    act(
                      id,
                      () =>
                        setRole.mutateAsync({
                          conversation_id: conversation.id,
                          user_id: id,
                          role: role === 'admin' ? 'member' : 'admin',
                        }),
                      `${nameOf(id)} is ${role === 'admin' ? 'no longer an admin' : 'now an admin'}`,
                    )
                  }
                />
              )}
              {may.remove && (
                <ActionButton
                  label="Remove"
                  danger
                  describedBy={labelId}
                  disabled={busy !== null}
                  onClick={() =>
                    act(
                      id,
                      () => removeMember.mutateAsync({ conversation_id: conversation.id, user_id: id }),
                      `${nameOf(id)} was removed from the group`,
                    )
                  }
                />
              )}
            </li>
          );
        })}
      </ul>
      <p className="sr-only" role="status">
        {status}
      </p>
      <FormError error={error} />
      <footer className="dialog-actions">
        <button type="button" className="button" data-autofocus onClick={onClose}>
          Done
        </button>
      </footer>
    </Modal>
  );
}
