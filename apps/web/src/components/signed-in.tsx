import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { type Chat, ChatProvider } from '../chat-context.tsx';
import { httpStatus } from '../lib/errors.ts';
import { Outbox } from '../lib/outbox.ts';
import { ReadMarkers } from '../lib/read-markers.ts';
import type { Session } from '../lib/session.ts';
import { createSessionClient, type Endpoints } from '../lib/trpc.ts';
import { ChatShell } from './chat-shell.tsx';
import { LogoMark } from './icons.tsx';

interface SignedInProps {
  userId: string;
  session: Session;
  endpoints: Endpoints;
  onLogout(): void;
}

/** Retry what may pass a second time (network, server hiccup), never a refusal. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 3) return false;
  const status = httpStatus(error);
  return status === undefined || status >= 500 || status === 429;
}

/** Everything that lives as long as one login: the socket, the caches, the outbox. */
export function SignedIn({ userId, session, endpoints, onLogout }: SignedInProps) {
  const [state, setState] = useState<{ chat: Chat; queryClient: QueryClient } | null>(null);

  useEffect(() => {
    const api = createSessionClient(session, endpoints);
    const queryClient = new QueryClient({
      defaultOptions: {
        queries: { staleTime: 60_000, retry: shouldRetry, refetchOnWindowFocus: false },
        mutations: { retry: false },
      },
    });
    setState({
      queryClient,
      chat: {
        client: api.client,
        connection: api.connection,
        outbox: new Outbox(),
        readMarkers: new ReadMarkers(userId),
        myId: userId,
        logout: onLogout,
      },
    });
    return () => {
      void api.close();
      queryClient.clear();
    };
  }, [userId, session, endpoints, onLogout]);

  if (!state) {
    return (
      <div className="splash" role="status" aria-label="Loading Pneumatic">
        <LogoMark width={48} height={48} />
      </div>
    );
  }
  return (
    <QueryClientProvider client={state.queryClient}>
      <ChatProvider value={state.chat}>
        <ChatShell />
      </ChatProvider>
    </QueryClientProvider>
  );
}
