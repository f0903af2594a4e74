import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { useChat } from './chat-context.tsx';
import { receiveMute } from './lib/cache.ts';

/**
 * Mutes or unmutes a conversation for me, on the server, so every device of
 * mine agrees (they hear of it through the `mute` event). The list shows
 * the change at once and goes back if the server refuses.
 */
export function useSetMuted(): (conversationId: string, muted: boolean) => Promise<void> {
  const { api } = useChat();
  const queryClient = useQueryClient();
  return useCallback(
    async (conversationId: string, muted: boolean) => {
      receiveMute(queryClient, conversationId, muted);
      try {
        const state = await api.conversations.setMuted.mutate({ conversation_id: conversationId, muted });
        receiveMute(queryClient, state.conversation_id, state.muted);
      } catch (error) {
        receiveMute(queryClient, conversationId, !muted);
        throw error;
      }
    },
    [api, queryClient],
  );
}
