import type { PneumaticRouter } from '@pneumatic/client';
import { type createTRPCQueryUtils, createTRPCReact } from '@trpc/react-query';

/**
 * tRPC's React Query hooks for the Pneumatic API: every hook, query key and
 * cache helper typed by the SDK's router type. Its client is built on the
 * SDK client's links (signed-in.tsx), so it shares the login, the token
 * refresh and the one socket.
 */
export const trpc = createTRPCReact<PneumaticRouter>();

/** tRPC's typed cache helpers (`trpc.useUtils()`, or `createTRPCQueryUtils` outside React). */
export type TrpcUtils = ReturnType<typeof createTRPCQueryUtils<PneumaticRouter>>;

/** Messages per history page: part of the history query's input, so of its cache entry. */
export const HISTORY_PAGE_SIZE = 50;

/** The input of a conversation's history query (its cursor is the infinite query's page param). */
export function historyInput(conversationId: string) {
  return { conversation_id: conversationId, limit: HISTORY_PAGE_SIZE };
}
