import { useEffect } from 'react';
import { useChat } from './chat-context.tsx';
import { notifyOfMessage } from './lib/browser-notifications.ts';
import {
  receiveConversation,
  receiveMessage,
  receiveMessageUpdate,
  receiveMute,
  receivePresence,
  receiveReactionEvent,
  receiveRead,
  receiveUser,
  useCache,
} from './lib/cache.ts';

/**
 * Keeps the caches live from the SDK's event stream. It resumes after the
 * last event whenever the socket reconnects or the subscription restarts,
 * so the server replays exactly what was missed; `resync` refetches all.
 */
export function useLiveEvents(): void {
  const chat = useChat();
  const cache = useCache();

  useEffect(() => {
    const { client, myId, readMarkers, typing } = chat;
    const { utils } = cache;
    const stop = new AbortController();
    let caughtUp = false;
    const onStarted = () => {
      if (!caughtUp) {
        // What happened between the first fetches and the stream going live is in no event.
        caughtUp = true;
        void utils.invalidate();
        return;
      }
      // A resumed stream replays what is stored, but not who came and went or read meanwhile.
      void utils.users.get.invalidate();
      void utils.users.list.invalidate();
      void utils.conversations.list.invalidate();
    };

    void (async () => {
      for await (const event of client.events({ signal: stop.signal, onStarted })) {
        switch (event.type) {
          case 'message':
            receiveMessage(cache, event.message, myId, readMarkers);
            typing.stopped(event.message.conversation_id, event.message.sender_id);
            notifyOfMessage(cache, event.message, myId);
            break;
          case 'message_updated':
            receiveMessageUpdate(cache, event.message, myId);
            break;
          case 'reaction':
            receiveReactionEvent(cache, event);
            break;
          case 'conversation':
            // New members are looked up by id, whether they are online included.
            receiveConversation(cache, event.conversation, myId);
            break;
          case 'read':
            receiveRead(cache, event, myId, readMarkers);
            break;
          case 'typing':
            if (event.user_id !== myId)
              typing.started(event.conversation_id, event.user_id, event.expires_in_ms);
            break;
          case 'mute':
            receiveMute(cache, event.conversation_id, event.muted);
            break;
          case 'presence':
            receivePresence(cache, event.user_id, event.online, myId);
            break;
          case 'user':
            receiveUser(cache, event.user, myId);
            break;
          case 'resync':
            void utils.invalidate();
            break;
        }
      }
    })().catch(() => {
      // The login is over: the app goes back to the sign-in screen.
    });
    return () => stop.abort();
  }, [chat, cache]);
}
