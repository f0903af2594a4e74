import { useId, useState, useSyncExternalStore } from 'react';
import {
  useChat,
  useConnectionStatus,
  useConversations,
  useDirectory,
  useMe,
  useOutbox,
  useReadMarkers,
  useSearchTerm,
  useUsers,
} from '../chat-context.tsx';
import { receiveConversation, useCache } from '../lib/cache.ts';
import { unreadCount, unreadMentions } from '../lib/conversation-list.ts';
import { describeError } from '../lib/errors.ts';
import { conversationName, displayName, formatListTime } from '../lib/format.ts';
import { describeSystemLine } from '../lib/system-lines.ts';
import type { ConversationListItem, Person } from '../lib/types.ts';
import { describeTyping, typingUserIds } from '../lib/typing.ts';
import { trpc } from '../trpc.ts';
import { Avatar } from './avatar.tsx';
import { BellIcon, LogoMark, LogoutIcon, NewGroupIcon, SearchIcon } from './icons.tsx';
import type { JumpTarget } from './message-list.tsx';
import { isMessageQuery, MessageSearch } from './message-search.tsx';
import { MoreButton } from './more-button.tsx';
import { NotificationControl } from './notification-control.tsx';
import { ThemeSwitch } from './theme-switch.tsx';

type Tab = 'chats' | 'people';

interface SidebarProps {
  selectedId: string | null;
  onOpen(conversationId: string): void;
  /** Opens a conversation at a message (a search result). */
  onJump(target: Omit<JumpTarget, 'nonce'>): void;
  onNewGroup(): void;
  /** Opens the account dialog (password, sessions, name, deletion). */
  onAccount(): void;
}

function matches(query: string, ...texts: (string | null | undefined)[]): boolean {
  const q = query.trim().toLowerCase();
  return !q || texts.some((t) => t?.toLowerCase().includes(q));
}

export function Sidebar({ selectedId, onOpen, onJump, onNewGroup, onAccount }: SidebarProps) {
  const { myId, logout } = useChat();
  const cache = useCache();
  const { utils } = cache;
  const create = trpc.conversations.create.useMutation();
  const me = useMe();
  const { byId } = useUsers();
  const conversations = useConversations();
  const [tab, setTab] = useState<Tab>('chats');
  const [query, setQuery] = useState('');
  const [openingId, setOpeningId] = useState<string | null>(null);
  const [peopleError, setPeopleError] = useState<string | null>(null);
  const ids = useId();

  const list = conversations.data ?? [];
  const shownConversations = list.filter((c) => {
    const others = c.members.filter((id) => id !== myId).map((id) => byId.get(id));
    return matches(query, conversationName(c, myId, byId), ...others.map((u) => u?.username));
  });
  const directory = useDirectory(useSearchTerm(query), { enabled: tab === 'people' });

  /** Opens the 1-on-1 with `user`, creating it the first time; the server returns an existing one. */
  const openDirect = async (user: Person) => {
    setPeopleError(null);
    const existing = list.find((c) => c.kind === 'direct' && c.members.includes(user.id));
    if (existing) {
      setTab('chats');
      onOpen(existing.id);
      return;
    }
    setOpeningId(user.id);
    try {
      const title = me.data ? `${me.data.username} & ${user.username}` : user.username;
      const conversation = await create.mutateAsync({ title, member_ids: [user.id] });
      receiveConversation(cache, conversation, myId);
      if (!utils.conversations.list.getData()) void utils.conversations.list.invalidate();
      setTab('chats');
      onOpen(conversation.id);
    } catch (error) {
      setPeopleError(`Could not open a chat with ${displayName(user)}: ${describeError(error)}`);
    } finally {
      setOpeningId(null);
    }
  };

  // No event announces new sign-ups, so the directory is searched again whenever it is looked at.
  const showPeople = () => {
    setTab('people');
    void utils.users.list.invalidate();
  };

  const myName = me.data ? displayName(me.data) : '';
  const searchingMessages = isMessageQuery(query);
  const conversationListProps: ConversationListProps = {
    conversations: shownConversations,
    loading: conversations.isPending,
    error: conversations.isError ? describeError(conversations.error) : null,
    filtered: query.trim() !== '',
    selectedId,
    users: byId,
    onOpen,
    onFindPeople: showPeople,
    onNewGroup,
  };

  return (
    <aside className="sidebar" aria-label="Conversations and people">
      <header className="sidebar-header">
        <div className="brand">
          <LogoMark width={30} height={30} />
          <span>Pneumatic</span>
        </div>
        <button
          type="button"
          className="icon-button"
          aria-label="New group"
          title="New group"
          onClick={onNewGroup}
        >
          <NewGroupIcon />
        </button>
      </header>

      <div className="search">
        <SearchIcon className="search-icon" />
        <input
          type="search"
          aria-label="Search conversations, people and messages"
          placeholder="Search chats, people, messages"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Escape' && query) {
              e.preventDefault();
              setQuery('');
            }
          }}
        />
      </div>

      <div className="tabs" role="tablist" aria-label="Show">
        <button
          type="button"
          role="tab"
          id={`${ids}-chats-tab`}
          aria-selected={tab === 'chats'}
          aria-controls={`${ids}-panel`}
          onClick={() => setTab('chats')}
        >
          Chats
        </button>
        <button
          type="button"
          role="tab"
          id={`${ids}-people-tab`}
          aria-selected={tab === 'people'}
          aria-controls={`${ids}-panel`}
          onClick={showPeople}
        >
          People
        </button>
      </div>

      <div className="sidebar-list" role="tabpanel" id={`${ids}-panel`} aria-labelledby={`${ids}-${tab}-tab`}>
        {tab === 'chats' ? (
          searchingMessages ? (
            <>
              {shownConversations.length > 0 && (
                <section aria-label="Chats found">
                  <h3 className="list-heading">Chats</h3>
                  <ConversationList {...conversationListProps} />
                </section>
              )}
              <MessageSearch query={query} conversations={list} users={byId} onJump={onJump} />
            </>
          ) : (
            <ConversationList {...conversationListProps} />
          )
        ) : (
          <>
            {peopleError && (
              <p className="inline-error" role="alert">
                {peopleError}
              </p>
            )}
            <PeopleList
              people={directory.people}
              loading={directory.isPending}
              filtered={query.trim() !== ''}
              openingId={openingId}
              onOpen={openDirect}
            />
            {directory.isError && (
              <p className="inline-error" role="alert">
                Could not load people: {describeError(directory.error)}
              </p>
            )}
            <MoreButton label="More people" className="button list-more" pages={directory} />
          </>
        )}
      </div>

      <footer className="sidebar-footer">
        <button
          type="button"
          className="me-button"
          aria-haspopup="dialog"
          title="Account settings"
          onClick={onAccount}
        >
          <Avatar id={myId} name={myName || '?'} size="sm" />
          <span className="me">
            <span className="me-name">
              <span className="sr-only">Account: </span>
              {myName}
            </span>
            <ConnectionLabel />
          </span>
        </button>
        <ThemeSwitch />
        <NotificationControl />
        <button type="button" className="icon-button" aria-label="Log out" title="Log out" onClick={logout}>
          <LogoutIcon />
        </button>
      </footer>
    </aside>
  );
}

function ConnectionLabel() {
  const status = useConnectionStatus();
  const label = {
    online: 'Online',
    connecting: 'Connecting…',
    reconnecting: 'Reconnecting…',
    closed: 'Offline',
  }[status];
  return (
    <span className="connection-label" data-status={status}>
      <span className="status-dot" aria-hidden="true" />
      {label}
    </span>
  );
}

interface ConversationListProps {
  conversations: ConversationListItem[];
  loading: boolean;
  error: string | null;
  filtered: boolean;
  selectedId: string | null;
  users: ReadonlyMap<string, Person>;
  onOpen(id: string): void;
  onFindPeople(): void;
  onNewGroup(): void;
}

function ConversationList(props: ConversationListProps) {
  const { conversations, loading, error, filtered, selectedId, users, onOpen } = props;
  const { myId, typing } = useChat();
  const typingEverywhere = useSyncExternalStore(typing.subscribe, typing.get);
  const markers = useReadMarkers();
  const outbox = useOutbox();

  if (loading) return <ListSkeleton />;
  if (error) {
    return (
      <p className="inline-error" role="alert">
        {error}
      </p>
    );
  }
  if (conversations.length === 0) {
    return filtered ? (
      <p className="list-empty">No conversations match.</p>
    ) : (
      <div className="list-empty">
        <p>No conversations yet.</p>
        <div className="list-empty-actions">
          <button type="button" className="button primary" onClick={props.onFindPeople}>
            Find people
          </button>
          <button type="button" className="button" onClick={props.onNewGroup}>
            New group
          </button>
        </div>
      </div>
    );
  }

  return (
    <ul className="conversation-list" aria-label="Conversations">
      {conversations.map((c) => {
        const name = conversationName(c, myId, users);
        const unread = unreadCount(c, markers[c.id], myId);
        const mentions = unreadMentions(c, unread);
        const failed = outbox.some((m) => m.conversation_id === c.id && m.status === 'failed');
        const typers = typingUserIds(typingEverywhere.get(c.id), myId);
        const typingText =
          typers.length === 0
            ? null
            : c.kind === 'direct'
              ? 'typing…'
              : describeTyping(typers.map((id) => displayName(users.get(id)).split(' ')[0] ?? ''));
        const last = c.last_message;
        const sender =
          !last || last.kind === 'system'
            ? ''
            : last.sender_id === myId
              ? 'You: '
              : c.kind === 'direct'
                ? ''
                : `${displayName(users.get(last.sender_id)).split(' ')[0]}: `;
        const group = c.kind === 'group';
        const otherId = group ? undefined : c.members.find((id) => id !== myId);
        const avatarId = otherId ?? c.id;
        return (
          <li key={c.id}>
            <button
              type="button"
              className="conversation-item"
              aria-current={c.id === selectedId ? 'page' : undefined}
              data-unread={unread > 0 || undefined}
              data-muted={c.muted || undefined}
              onClick={() => onOpen(c.id)}
            >
              <Avatar
                id={avatarId}
                name={name}
                group={group}
                online={otherId ? users.get(otherId)?.online : undefined}
              />
              <span className="ci-body">
                <span className="ci-top">
                  <span className="ci-name">
                    {group && (
                      <span className="group-mark" role="img" aria-label="Group">
                        👥
                      </span>
                    )}
                    {name}
                  </span>
                  {c.muted && (
                    <span className="muted-mark" role="img" aria-label="Muted">
                      <BellIcon off width={14} height={14} />
                    </span>
                  )}
                  <time className="ci-time" dateTime={c.last_activity_at}>
                    {formatListTime(c.last_activity_at)}
                  </time>
                </span>
                <span className="ci-bottom">
                  <span className="ci-preview">
                    {failed ? (
                      <span className="ci-failed">Message not sent</span>
                    ) : typingText ? (
                      <span className="ci-typing">{typingText}</span>
                    ) : last?.kind === 'system' ? (
                      <span className="ci-system">{describeSystemLine(last, myId, users)}</span>
                    ) : last?.deleted_at ? (
                      <>
                        {sender}
                        <span className="ci-deleted">Message deleted</span>
                      </>
                    ) : last ? (
                      <>
                        {sender}
                        {last.content}
                      </>
                    ) : (
                      <span className="muted">No messages yet</span>
                    )}
                  </span>
                  {mentions > 0 && (
                    <span className="badge mention-badge" title="Unread mentions of you">
                      @{mentions > 99 ? '99+' : mentions}
                      <span className="sr-only"> {mentions === 1 ? 'mention' : 'mentions'}</span>
                    </span>
                  )}
                  {unread > 0 && (
                    <span className="badge">
                      {unread > 99 ? '99+' : unread}
                      <span className="sr-only"> unread</span>
                    </span>
                  )}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

interface PeopleListProps {
  people: Person[];
  loading: boolean;
  filtered: boolean;
  openingId: string | null;
  onOpen(user: Person): void;
}

function PeopleList({ people, loading, filtered, openingId, onOpen }: PeopleListProps) {
  if (loading) return <ListSkeleton />;
  if (people.length === 0) {
    return (
      <p className="list-empty">
        {filtered ? 'No one matches.' : 'No one else is here yet. Invite a friend to sign up!'}
      </p>
    );
  }
  return (
    <ul className="people-list" aria-label="People">
      {people.map((user) => {
        const name = displayName(user);
        return (
          <li key={user.id}>
            <button
              type="button"
              className="person-item"
              aria-busy={openingId === user.id || undefined}
              data-online={user.online || undefined}
              disabled={openingId !== null}
              onClick={() => onOpen(user)}
            >
              <Avatar id={user.id} name={name} online={user.online} />
              <span className="ci-body">
                {/* Named by what it shows (WCAG 2.5.3), "Message" first for screen readers. */}
                <span className="ci-name">
                  <span className="sr-only">Message </span>
                  {name}
                </span>
                <span className="ci-preview">
                  @{user.username}
                  {user.online && <span className="presence-text"> · Online</span>}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}

function ListSkeleton() {
  return (
    <ul className="skeleton-list" aria-hidden="true">
      {[0, 1, 2, 3].map((i) => (
        <li key={i} className="skeleton-item">
          <span className="skeleton-avatar" />
          <span className="skeleton-lines">
            <span />
            <span />
          </span>
        </li>
      ))}
    </ul>
  );
}
