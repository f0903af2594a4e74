import { describe, expect, it } from 'vitest';
import type { Context } from '../src/context.ts';
import type { AuthenticatedUser } from '../src/services/auth.service.ts';
import { authedContext } from '../src/trpc.ts';

describe('the context of a call that skips tRPC’s chain', () => {
  it('carries every field of the socket’s context and the caller’s identity', () => {
    const auth = { user: { id: 'u1', username: 'alice' }, sessionId: 's1' } as unknown as AuthenticatedUser;
    const ctx = {
      deps: { marker: 'deps' },
      identify: async () => auth,
      claimedUserId: async () => 'u1',
      ip: '203.0.113.7',
      userAgent: 'test-agent',
      socket: { userId: 'u1', shedIfStalled: () => false },
      traceParent: { marker: 'trace' },
    } as unknown as Context;
    const authed = authedContext(ctx, auth);
    // What `{ ...ctx, user, sessionId }` made, field for field.
    expect(authed).toEqual({ ...ctx, user: auth.user, sessionId: auth.sessionId });
    expect(Object.keys(authed).sort()).toEqual([...Object.keys(ctx), 'user', 'sessionId'].sort());
    expect(authed).not.toBe(ctx);
  });
});
