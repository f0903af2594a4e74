import { useCallback, useEffect, useRef, useState } from 'react';
import { useChat, useConversations, useReadMarkers } from '../chat-context.tsx';
import { unreadCount } from '../lib/conversation-list.ts';
import { useLiveEvents } from '../live-events.ts';
import { ConnectionBanner } from './connection-banner.tsx';
import { ConversationView } from './conversation-view.tsx';
import { LogoMark, NewGroupIcon } from './icons.tsx';
import { NewGroupDialog } from './new-group-dialog.tsx';
import { Sidebar } from './sidebar.tsx';

const ROUTE = /^#\/c\/([0-9a-f-]{36})$/i;

function readRoute(): string | null {
  return ROUTE.exec(window.location.hash)?.[1] ?? null;
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
    const hash = `#/c/${id}`;
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

export function ChatShell() {
  const { myId } = useChat();
  useLiveEvents();
  const { selectedId, open, close } = useSelectedConversation();
  const conversations = useConversations();
  const markers = useReadMarkers();
  const [groupDialogOpen, setGroupDialogOpen] = useState(false);

  const list = conversations.data ?? [];
  const totalUnread = list.reduce(
    (sum, c) => sum + (c.id === selectedId ? 0 : unreadCount(c, markers[c.id], myId)),
    0,
  );
  useDocumentTitle(totalUnread);

  const selected = list.find((c) => c.id === selectedId);
  const openNewGroup = useCallback(() => setGroupDialogOpen(true), []);

  return (
    <div className="app" data-view={selectedId ? 'conversation' : 'list'}>
      <ConnectionBanner />
      <Sidebar selectedId={selectedId} onOpen={open} onNewGroup={openNewGroup} />
      <main className="main">
        {selected ? (
          <ConversationView key={selected.id} conversation={selected} onBack={close} />
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
      <NewGroupDialog open={groupDialogOpen} onClose={() => setGroupDialogOpen(false)} onCreated={open} />
    </div>
  );
}
