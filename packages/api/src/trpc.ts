import { initTRPC, TRPCError } from '@trpc/server';
import type { Context } from './context.ts';
import { type ValidationIssue, validationIssues } from './errors.ts';
import { authenticate } from './services/auth.service.ts';
import { inSpan } from './tracing.ts';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const issues = validationIssues(error);
    // What went wrong inside (SQL, stack, driver text) stays in the server's log.
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      message: internal ? 'Internal server error' : shape.message,
      data: {
        ...shape.data,
        // Field errors for forms: { fieldErrors: { username: ['...'] }, formErrors: [] }.
        zodError: issues ? flatten(issues) : null,
        stack: undefined,
      },
    };
  },
});

function flatten(issues: ValidationIssue[]) {
  const fieldErrors: Record<string, string[]> = {};
  const formErrors: string[] = [];
  for (const issue of issues) {
    const field = issue.path[0];
    if (field === undefined) formErrors.push(issue.message);
    else fieldErrors[String(field)] = [...(fieldErrors[String(field)] ?? []), issue.message];
  }
  return { fieldErrors, formErrors };
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
/**
 * Calls that arrive over a WebSocket spend the caller's request budget here;
 * HTTP requests already spent it at the door.
 */
const socketBudget = t.middleware(async ({ ctx, next }) => {
  if (ctx.socket && ctx.deps.budget) {
    const key = ctx.auth ? `user:${ctx.auth.user.id}` : `ip:${ctx.ip}`;
    const result = await ctx.deps.budget.consume(key);
    if (!result.allowed) throw new TRPCError({ code: 'TOO_MANY_REQUESTS', message: result.message });
  }
  return next();
});

const observed = t.middleware(async ({ ctx, path, type, next }) => {
  const started = performance.now();
  const result = ctx.deps.settings.tracing
    ? await inSpan(
        `trpc ${path}`,
        { 'rpc.system': 'trpc', 'rpc.method': path },
        ctx.traceParent,
        () => next(),
        (r) => !r.ok,
      )
    : await next();
  ctx.deps.observer.procedureDone?.(
    path,
    type,
    performance.now() - started,
    result.ok ? null : result.error.code,
  );
  return result;
});

export const publicProcedure = t.procedure.use(observed).use(socketBudget);

/** A procedure that needs a valid access token; `ctx.user` and `ctx.sessionId` are set inside. */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  // A socket closes when its token expires; this covers the moments in between.
  const auth =
    ctx.auth && ctx.auth.expiresAt > Date.now() ? ctx.auth : await authenticate(ctx.deps, ctx.token);
  return next({ ctx: { user: auth.user, sessionId: auth.sessionId } });
});
