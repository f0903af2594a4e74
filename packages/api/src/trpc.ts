import { initTRPC } from '@trpc/server';
import { type TRPC_ERROR_CODE_KEY, TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { Context } from './context.ts';
import type { BudgetResult } from './deps.ts';
import { describeFailure, fail, type ValidationIssue } from './errors.ts';
import type { AuthenticatedUser } from './services/auth.service.ts';
import { inSpan } from './tracing.ts';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    // What went wrong inside (SQL, stack, driver text) stays in the server's log; an outage is
    // SERVICE_UNAVAILABLE with its own words, so clients know to retry.
    const failure = describeFailure(error);
    const message = failure.code === error.code ? shape.message : failure.message;
    return {
      ...shape,
      code: TRPC_ERROR_CODES_BY_KEY[failure.code],
      message: failure.code === 'INTERNAL_SERVER_ERROR' ? failure.message : message,
      data: {
        ...shape.data,
        code: failure.code,
        httpStatus: failure.status,
        // Field errors for forms: { fieldErrors: { username: ['...'] }, formErrors: [] }.
        zodError: failure.issues ? flatten(failure.issues) : null,
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
export function spendSocketBudget(ctx: Context): void | Promise<void> {
  if (!ctx.socket || !ctx.deps.budget) return;
  const result = ctx.deps.budget.consume(`user:${ctx.socket.userId}`);
  // The memory budget answers at once (no promise to wait for); Redis's answers later.
  if (result instanceof Promise) return result.then(refuseIfSpent);
  refuseIfSpent(result);
}

function refuseIfSpent(result: BudgetResult): void {
  if (!result.allowed) throw fail.tooManyRequests(result.message, result.resetSeconds);
}

/** Tells the observer (metrics) a procedure finished: how long it took and, when it failed, its code. */
export function procedureDone(
  ctx: Context,
  path: string,
  type: string,
  started: number,
  errorCode: TRPC_ERROR_CODE_KEY | null,
): void {
  ctx.deps.observer.procedureDone?.(path, type, performance.now() - started, errorCode);
}

const socketBudget = t.middleware(async ({ ctx, next }) => {
  await spendSocketBudget(ctx);
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
  procedureDone(ctx, path, type, started, result.ok ? null : result.error.code);
  return result;
});

/**
 * The middleware chain, in order: observed, then the socket's budget, then
 * (authed procedures) the caller's identity. direct-calls.ts runs the same
 * steps in the same order for the hot procedures a socket calls; a change
 * here is a change there.
 */
export const publicProcedure = t.procedure.use(observed).use(socketBudget);

/** The context inside an authed procedure. */
export type AuthedContext = Context & { user: AuthenticatedUser['user']; sessionId: string };

/**
 * `ctx` with the caller's identity, for a call that skips tRPC's chain
 * (direct-calls.ts). Written field by field: in Node 20's V8 an object
 * literal that spreads and then adds properties (`{ ...ctx, user, sessionId }`)
 * takes a slow path, 1.3–3.3 µs against 30 ns, 3–4 % of the event loop's
 * time for a socket's sends. The type lists every field of the context, so
 * one added there cannot be left out here.
 */
export function authedContext(ctx: Context, auth: AuthenticatedUser): AuthedContext {
  return {
    deps: ctx.deps,
    identify: ctx.identify,
    claimedUserId: ctx.claimedUserId,
    ip: ctx.ip,
    userAgent: ctx.userAgent,
    socket: ctx.socket,
    traceParent: ctx.traceParent,
    user: auth.user,
    sessionId: auth.sessionId,
  } satisfies Record<keyof AuthedContext, unknown>;
}

/** A procedure that needs a valid access token; `ctx.user` and `ctx.sessionId` are set inside. */
export const authedProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const auth = await ctx.identify();
  return next({ ctx: { user: auth.user, sessionId: auth.sessionId } });
});

/**
 * For a read that answers members alone (a history page): over HTTP it
 * starts with the user id the access token names (Context.claimedUserId)
 * while the login behind the token is checked, instead of after: one
 * database round trip where there were two in a row, and their slow tails
 * overlap instead of adding up. Nothing of the read reaches the caller
 * until the check has passed: a login that is gone answers UNAUTHORIZED,
 * ahead of any answer or error of the read or its input. `ctx.userId` is
 * the caller's id inside.
 */
export const memberReadProcedure = publicProcedure.use(async ({ ctx, next }) => {
  const identity = ctx.identify();
  if (!ctx.claimedUserId) return next({ ctx: { userId: (await identity).user.id } });
  // Settled below, whatever the read does first.
  identity.catch(() => {});
  let userId: string;
  try {
    userId = await ctx.claimedUserId();
  } catch (error) {
    await identity;
    throw error;
  }
  const result = await next({ ctx: { userId } });
  const auth = await identity;
  // The login is the token's own (its session and subject): the same account, or no answer.
  if (auth.user.id !== userId) throw fail.unauthorized('revoked');
  return result;
});
