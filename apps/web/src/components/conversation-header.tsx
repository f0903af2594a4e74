import { useState } from 'react';
import { useChat } from '../chat-context.tsx';
import { describeError } from '../lib/errors.ts';
import { displayName } from '../lib/format.ts';
import type { ConversationListItem, Person } from '../lib/types.ts';
import { useSetMuted } from '../use-set-muted.ts';
import { Avatar } from './avatar.tsx';
import { BackIcon, BellIcon, EditIcon, LogoutIcon, NewGroupIcon } from './icons.tsx';
import { MembersDialog } from './members-dialog.tsx';
import { AddPeopleDialog, LeaveDialog, RenameDialog } from './membership-dialogs.tsx';
import { Menu, type MenuItem } from './menu.tsx';
import { NewGroupDialog } from './new-group-dialog.tsx';

interface ConversationHeaderProps {
  conversation: ConversationListItem;
  name: string;
  users: ReadonlyMap<string, Person>;
  onBack(): void;
  /** Opens another conversation (a group started from this 1-on-1). */
  onOpen(conversationId: string): void;
}

const NAMES_IN_SUBTITLE = 4;

function groupSubtitle(conversation: ConversationListItem, myId: string, users: ReadonlyMap<string, Person>) {
  const others = conversation.members.filter((id) => id !== myId).map((id) => displayName(users.get(id)));
  const shown = others.slice(0, NAMES_IN_SUBTITLE);
  const rest = others.length - shown.length;
  return [...shown, rest > 0 ? `${rest} more` : null, 'you'].filter(Boolean).join(', ');
}

type Dialog = 'add' | 'members' | 'rename' | 'leave' | 'new-group' | null;

/** Who the conversation is with, whether they are online, and what members can do to a group. */
export function ConversationHeader({ conversation, name, users, onBack, onOpen }: ConversationHeaderProps) {
  const { myId } = useChat();
  const [dialog, setDialog] = useState<Dialog>(null);
  const close = () => setDialog(null);
  const group = conversation.kind === 'group';
  const otherId = group ? undefined : conversation.members.find((id) => id !== myId);
  const other = otherId ? users.get(otherId) : undefined;
  const setMuted = useSetMuted();
  const [muteError, setMuteError] = useState<string | null>(null);
  const muteItem: MenuItem = {
    label: conversation.muted ? 'Unmute notifications' : 'Mute notifications',
    icon: <BellIcon off={!conversation.muted} width={16} height={16} />,
    onSelect: () => {
      setMuteError(null);
      setMuted(conversation.id, !conversation.muted).catch((error: unknown) =>
        setMuteError(`Could not change notifications: ${describeError(error)}`),
      );
    },
  };

  return (
    <header className="conversation-header">
      <button
        type="button"
        className="icon-button back-button"
        aria-label="Back to conversations"
        onClick={onBack}
      >
        <BackIcon />
      </button>
      <Avatar id={otherId ?? conversation.id} name={name} group={group} online={other?.online} />
      <div className="conversation-title">
        <h2 id={`title-${conversation.id}`}>
          {group && (
            <span className="group-mark" role="img" aria-label="Group">
              👥
            </span>
          )}
          {name}
          {conversation.muted && (
            <span className="muted-mark" role="img" aria-label="Muted" title="Muted: no notifications">
              <BellIcon off width={14} height={14} />
            </span>
          )}
        </h2>
        {muteError ? (
          <p className="inline-error" role="alert">
            {muteError}
          </p>
        ) : group ? (
          <p className="muted">{groupSubtitle(conversation, myId, users)}</p>
        ) : other ? (
          <p className="muted presence-line" data-online={other.online || undefined}>
            {other.online ? (
              <>
                <span className="presence-mark" aria-hidden="true" />
                Online
              </>
            ) : (
              `@${other.username}`
            )}
          </p>
        ) : null}
      </div>
      <div className="header-actions">
        <button
          type="button"
          className="icon-button"
          aria-label="Add people"
          title="Add people"
          onClick={() => setDialog(group ? 'add' : 'new-group')}
        >
          <NewGroupIcon />
        </button>
        <Menu
          label={group ? 'Group settings' : 'Conversation settings'}
          items={
            group
              ? [
                  muteItem,
                  {
                    label: 'Members',
                    icon: <NewGroupIcon width={16} height={16} />,
                    onSelect: () => setDialog('members'),
                  },
                  {
                    label: 'Rename group',
                    icon: <EditIcon width={16} height={16} />,
                    onSelect: () => setDialog('rename'),
                  },
                  {
                    label: 'Leave group',
                    icon: <LogoutIcon width={16} height={16} />,
                    danger: true,
                    onSelect: () => setDialog('leave'),
                  },
                ]
              : [muteItem]
          }
        />
      </div>

      {dialog === 'add' && <AddPeopleDialog conversation={conversation} name={name} onClose={close} />}
      {dialog === 'members' && (
        <MembersDialog conversation={conversation} name={name} users={users} onClose={close} />
      )}
      {dialog === 'rename' && <RenameDialog conversation={conversation} name={name} onClose={close} />}
      {dialog === 'leave' && <LeaveDialog conversation={conversation} name={name} onClose={close} />}
      {dialog === 'new-group' && (
        <NewGroupDialog
          initialMembers={other ? [other] : []}
          notice={`A 1-on-1 stays between the two of you. To talk with more people, start a group${other ? ` with ${displayName(other)} and others` : ''}.`}
          onClose={close}
          onCreated={onOpen}
        />
      )}
    </header>
  );
}
