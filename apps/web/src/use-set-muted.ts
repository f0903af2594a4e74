import { useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { useChat } from './chat-context.tsx';
import { queryKeys, receiveMute } from './lib/cache.ts';
import type { ConversationListItem } from './lib/types.ts';

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
      const before = queryClient
        .getQueryData<ConversationListItem[]>(queryKeys.conversations)
        ?.find((c) => c.id === conversationId)?.muted;
      receiveMute(queryClient, conversationId, muted);
      try {
        const state = await api.conversations.setMuted.mutate({ conversation_id: conversationId, muted });
        receiveMute(queryClient, state.conversation_id, state.muted);
      } catch (error) {
        if (before !== undefined) receiveMute(queryClient, conversationId, before);
        throw error;
      }
    },
    [api, queryClient],
  );
}
