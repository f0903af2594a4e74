import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useChat } from './chat-context.tsx';
import { receiveConversation, receiveMessage } from './lib/cache.ts';

/**
 * Keeps the caches live from the SDK's event stream. It resumes after the
 * last event whenever the socket reconnects or the subscription restarts,
 * so the server replays exactly what was missed; `resync` refetches all.
 */
export function useLiveEvents(): void {
  const chat = useChat();
  const queryClient = useQueryClient();

  useEffect(() => {
    const { client, myId, readMarkers } = chat;
    const stop = new AbortController();
    let caughtUp = false;
    const onStarted = () => {
      // What happened between the first fetches and the stream going live is in no event.
      if (caughtUp) return;
      caughtUp = true;
      void queryClient.invalidateQueries();
    };

    void (async () => {
      for await (const event of client.events({ signal: stop.signal, onStarted })) {
        if (event.type === 'message') receiveMessage(queryClient, event.message, myId, readMarkers);
        else if (event.type === 'conversation') receiveConversation(queryClient, event.conversation, myId);
        else if (event.type === 'resync') void queryClient.invalidateQueries();
      }
    })().catch(() => {
      // The login is over: the app goes back to the sign-in screen.
    });
    return () => stop.abort();
  }, [chat, queryClient]);
}
