import { useCallback, useEffect, useRef, useState } from 'react';
import { useChat, useConversations, useReadMarkers } from '../chat-context.tsx';
import { unreadCount } from '../lib/conversation-list.ts';
import { conversationHash, conversationIdFromHash } from '../lib/route.ts';
import { useLiveEvents } from '../live-events.ts';
import { AccountDialog } from './account-dialog.tsx';
import { ConnectionBanner } from './connection-banner.tsx';
import { ConversationView } from './conversation-view.tsx';
import { LogoMark, NewGroupIcon } from './icons.tsx';
import type { JumpTarget } from './message-list.tsx';
import { NewGroupDialog } from './new-group-dialog.tsx';
import { Sidebar } from './sidebar.tsx';

function readRoute(): string | null {
  return conversationIdFromHash(window.location.hash);
}

/**
 * The open conversation lives in the URL hash (`#/c/<id>`), so reload and
 * the browser's back button work; on a phone, back returns to the list.
 */
function useSelectedConversation() {
  const [selectedId, setSelectedId] = useState(readRoute);
  /** Whether the current entry was pushed by opening a conversation from the list. */
  const pushed = useRef(false);

  useEffect(() => {
    const onChange = () => {
      pushed.current = false;
      setSelectedId(readRoute());
    };
    window.addEventListener('popstate', onChange);
    window.addEventListener('hashchange', onChange);
    return () => {
      window.removeEventListener('popstate', onChange);
      window.removeEventListener('hashchange', onChange);
    };
  }, []);

  const open = useCallback((id: string) => {
    const hash = conversationHash(id);
    if (window.location.hash === hash) return;
    if (readRoute() === null) {
      window.history.pushState(null, '', hash);
      pushed.current = true;
    } else {
      window.history.replaceState(null, '', hash);
    }
    setSelectedId(id);
  }, []);

  const close = useCallback(() => {
    if (pushed.current) {
      // Once: a second close before the popstate lands must not go back further.
      pushed.current = false;
      window.history.back();
      return;
    }
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    setSelectedId(null);
  }, []);

  return { selectedId, open, close };
}

function useDocumentTitle(unread: number): void {
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Pneumatic Chat` : 'Pneumatic Chat';
  }, [unread]);
  useEffect(
    () => () => {
      document.title = 'Pneumatic Chat';
    },
    [],
  );
}

/** Leaves the view of a conversation that left the list while open (I left it on another device). */
function useCloseWhenGone(selectedId: string | null, present: boolean, close: () => void): void {
  const shown = useRef<string | null>(null);
  useEffect(() => {
    if (present) shown.current = selectedId;
    else if (selectedId !== null && shown.current === selectedId) {
      shown.current = null;
      close();
    }
  }, [selectedId, present, close]);
}

export function ChatShell() {
  const { myId } = useChat();
  useLiveEvents();
  const { selectedId, open, close } = useSelectedConversation();
  const conversations = useConversations();
  const markers = useReadMarkers();
  const [groupDialogOpen, setGroupDialogOpen] = useState(false);
  const [accountOpen, setAccountOpen] = useState(false);
  const [jump, setJump] = useState<JumpTarget | null>(null);

  const list = conversations.data ?? [];
  const totalUnread = list.reduce((sum, c) => sum + unreadCount(c, markers[c.id], myId), 0);
  useDocumentTitle(totalUnread);

  const selected = list.find((c) => c.id === selectedId);
  useCloseWhenGone(selectedId, selected !== undefined, close);
  const openNewGroup = useCallback(() => setGroupDialogOpen(true), []);
  const openAccount = useCallback(() => setAccountOpen(true), []);
  const jumpTo = useCallback(
    (target: Omit<JumpTarget, 'nonce'>) => {
      open(target.conversationId);
      setJump({ ...target, nonce: Date.now() });
    },
    [open],
  );
  const onJumped = useCallback(() => setJump(null), []);

  return (
    <div className="app" data-view={selectedId ? 'conversation' : 'list'}>
      <ConnectionBanner />
      <Sidebar
        selectedId={selectedId}
        onOpen={open}
        onJump={jumpTo}
        onNewGroup={openNewGroup}
        onAccount={openAccount}
      />
      <main className="main">
        {selected ? (
          <ConversationView
            key={selected.id}
            conversation={selected}
            onBack={close}
            onOpen={open}
            onJump={jumpTo}
            jumpTo={jump?.conversationId === selected.id ? jump : null}
            onJumped={onJumped}
          />
        ) : selectedId ? (
          <div className="main-empty">
            {conversations.isPending ? (
              <p className="muted" role="status">
                Loading conversation…
              </p>
            ) : (
              <>
                <h2>Conversation not found</h2>
                <p className="muted">It may have been removed, or you are not a member.</p>
                <button type="button" className="button" onClick={close}>
                  Back to conversations
                </button>
              </>
            )}
          </div>
        ) : (
          <div className="main-empty">
            <LogoMark width={56} height={56} />
            <h2>Pick up where you left off</h2>
            <p className="muted">Choose a conversation, message someone from People, or start a group.</p>
            <button type="button" className="button primary" onClick={openNewGroup}>
              <NewGroupIcon /> New group
            </button>
          </div>
        )}
      </main>
      {groupDialogOpen && <NewGroupDialog onClose={() => setGroupDialogOpen(false)} onCreated={open} />}
      {accountOpen && <AccountDialog onClose={() => setAccountOpen(false)} />}
    </div>
  );
}
