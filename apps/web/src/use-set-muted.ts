import { useCallback } from 'react';
import { receiveMute, useCache } from './lib/cache.ts';
import { trpc } from './trpc.ts';

/**
 * Mutes or unmutes a conversation for me, on the server, so every device of
 * mine agrees (they hear of it through the `mute` event). The list shows
 * the change at once and goes back if the server refuses.
 */
export function useSetMuted(): (conversationId: string, muted: boolean) => Promise<void> {
  const cache = useCache();
  const { mutateAsync: setMuted } = trpc.conversations.setMuted.useMutation();
  return useCallback(
    async (conversationId: string, muted: boolean) => {
      const before = cache.utils.conversations.list.getData()?.find((c) => c.id === conversationId)?.muted;
      receiveMute(cache, conversationId, muted);
      try {
        const state = await setMuted({ conversation_id: conversationId, muted });
        receiveMute(cache, state.conversation_id, state.muted);
      } catch (error) {
        if (before !== undefined) receiveMute(cache, conversationId, before);
        throw error;
      }
    },
    [cache, setMuted],
  );
}
