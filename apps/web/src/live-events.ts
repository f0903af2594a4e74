import { useQueryClient } from '@tanstack/react-query';
import type { Unsubscribable } from '@trpc/server/observable';
import { useEffect } from 'react';
import { useChat } from './chat-context.tsx';
import { reconnectDelay } from './lib/backoff.ts';
import { receiveConversation, receiveMessage } from './lib/cache.ts';

/**
 * Keeps the caches live from `events.stream`. The socket resends the last
 * event id when it reconnects, so the server replays exactly what was
 * missed; if the subscription itself ends in an error, it is started again
 * from that same id.
 */
export function useLiveEvents(): void {
  const chat = useChat();
  const queryClient = useQueryClient();

  useEffect(() => {
    const { client, myId, readMarkers } = chat;
    let lastEventId: string | null = null;
    let subscription: Unsubscribable | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    let caughtUp = false;

    const start = () => {
      subscription = client.events.stream.subscribe(
        { lastEventId },
        {
          onStarted() {
            attempt = 0;
            // What happened between the first fetches and the stream going live is in no event.
            if (!caughtUp) {
              caughtUp = true;
              void queryClient.invalidateQueries();
            }
          },
          onData({ id, data: event }) {
            lastEventId = id;
            if (event.type === 'message') receiveMessage(queryClient, event.message, myId, readMarkers);
            else if (event.type === 'conversation')
              receiveConversation(queryClient, event.conversation, myId);
            else void queryClient.invalidateQueries();
          },
          onError() {
            if (stopped) return;
            subscription?.unsubscribe();
            retryTimer = setTimeout(start, reconnectDelay(attempt++));
          },
        },
      );
    };
    start();
    return () => {
      stopped = true;
      clearTimeout(retryTimer);
      subscription?.unsubscribe();
    };
  }, [chat, queryClient]);
}
