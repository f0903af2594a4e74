import { initTRPC } from '@trpc/server';
import { z } from 'zod';
import type { Context } from './context.ts';
import { authenticate } from './services/auth.service.ts';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        // Field errors for forms: { fieldErrors: { username: ['...'] }, formErrors: [] }.
        zodError: cause instanceof z.ZodError ? z.flattenError(cause) : null,
        stack: undefined,
      },
    };
  },
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure;

/** A procedure that needs a valid access token; `ctx.user` and `ctx.sessionId` are set inside. */
export const authedProcedure = t.procedure.use(async ({ ctx, next }) => {
  // A socket closes when its token expires; this covers the moments in between.
  const auth =
    ctx.auth && ctx.auth.expiresAt > Date.now() ? ctx.auth : await authenticate(ctx.deps, ctx.token);
  return next({ ctx: { user: auth.user, sessionId: auth.sessionId } });
});
