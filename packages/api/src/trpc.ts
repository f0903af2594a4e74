import { initTRPC } from '@trpc/server';
import type { Context } from './context.ts';
import { type ValidationIssue, validationIssues } from './errors.ts';
import { authenticate } from './services/auth.service.ts';

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const issues = validationIssues(error);
    return {
      ...shape,
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
export const publicProcedure = t.procedure;

/** A procedure that needs a valid access token; `ctx.user` and `ctx.sessionId` are set inside. */
export const authedProcedure = t.procedure.use(async ({ ctx, next }) => {
  // A socket closes when its token expires; this covers the moments in between.
  const auth =
    ctx.auth && ctx.auth.expiresAt > Date.now() ? ctx.auth : await authenticate(ctx.deps, ctx.token);
  return next({ ctx: { user: auth.user, sessionId: auth.sessionId } });
});
