import { httpStatus, type PneumaticClient } from '@pneumatic/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { type Chat, ChatProvider } from '../chat-context.tsx';
import { Outbox } from '../lib/outbox.ts';
import { ReadMarkers } from '../lib/read-markers.ts';
import { TypingState } from '../lib/typing.ts';
import { trpc } from '../trpc.ts';
import { ChatShell } from './chat-shell.tsx';
import { LogoMark } from './icons.tsx';

interface SignedInProps {
  userId: string;
  client: PneumaticClient;
  onLogout(): void;
}

/** Retry what may pass a second time (network, server hiccup), never a refusal. */
function shouldRetry(failureCount: number, error: unknown): boolean {
  if (failureCount >= 3) return false;
  const status = httpStatus(error);
  return status === undefined || status >= 500 || status === 429;
}

/** Everything that lives as long as one login: the caches, the outbox, read markers, who is typing. */
export function SignedIn({ userId, client, onLogout }: SignedInProps) {
  const [state, setState] = useState<{
    chat: Chat;
    queryClient: QueryClient;
    trpcClient: ReturnType<typeof trpc.createClient>;
  } | null>(null);

  useEffect(() => {
    const queryClient = new QueryClient({
      defaultOptions: {
        queries: { staleTime: 60_000, retry: shouldRetry, refetchOnWindowFocus: false },
        mutations: { retry: false },
      },
    });
    const readMarkers = new ReadMarkers({
      send: (conversationId, seq) =>
        client.api.conversations.markRead.mutate({ conversation_id: conversationId, seq }),
    });
    const typing = new TypingState();
    setState({
      queryClient,
      // On the SDK client's links: its login, token refresh and socket.
      trpcClient: trpc.createClient({ links: client.links }),
      chat: {
        client,
        api: client.api,
        connection: client.connection,
        outbox: new Outbox(),
        readMarkers,
        typing,
        myId: userId,
        logout: onLogout,
      },
    });
    return () => {
      readMarkers.close();
      typing.close();
      queryClient.clear();
    };
  }, [userId, client, onLogout]);

  if (!state) {
    return (
      <div className="splash" role="status" aria-label="Loading Pneumatic">
        <LogoMark width={48} height={48} />
      </div>
    );
  }
  return (
    <trpc.Provider client={state.trpcClient} queryClient={state.queryClient}>
      <QueryClientProvider client={state.queryClient}>
        <ChatProvider value={state.chat}>
          <ChatShell />
        </ChatProvider>
      </QueryClientProvider>
    </trpc.Provider>
  );
}
