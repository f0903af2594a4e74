import { getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { getParseFn, type ParseFn } from '@trpc/server/unstable-core-do-not-import';
import type { Context } from './context.ts';
import { streamProcedure } from './routers/events.ts';
import { sendProcedure } from './routers/messages.ts';
import { type AuthedContext, procedureDone, spendSocketBudget } from './trpc.ts';

interface DirectProcedure {
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly parse: ParseFn<unknown>;
  readonly resolve: (opts: { ctx: AuthedContext; input: never }) => unknown;
}

/**
 * The calls a socket makes most (a send per message), run without tRPC's
 * middleware chain: tRPC builds that chain anew for every call (a closure
 * and a context copy per step, an abort signal), which over a busy socket
 * costs more than the send itself; every socket also opens the event
 * stream once, which is what a crowd reconnecting after a restart costs. The steps are the chain's, in its order
 * (trpc.ts): the observer's timing, the socket's budget, the caller's
 * identity, the input parsed once by the procedure's own schema (a failure
 * is tRPC's BAD_REQUEST with the same cause), then the procedure's own
 * resolver. The conformance suite holds the answers equal to tRPC's.
 */
const procedures = new Map<string, DirectProcedure>([
  [
    'messages.send',
    { type: 'mutation', parse: getParseFn(sendProcedure.input), resolve: sendProcedure.resolve },
  ],
  // Every socket opens it once: what a crowd reconnecting after a restart costs.
  [
    'events.stream',
    { type: 'subscription', parse: getParseFn(streamProcedure.input), resolve: streamProcedure.resolve },
  ],
]);

/** The direct form of `path` called as `type`, if it has one; none while tracing (spans come from the chain). */
export function directProcedure(ctx: Context, path: string, type: string): DirectProcedure | undefined {
  if (ctx.deps.settings.tracing) return undefined;
  const procedure = procedures.get(path);
  return procedure?.type === type ? procedure : undefined;
}

/** Runs a direct procedure; rejects with the TRPCError tRPC's chain would have produced. */
export async function callDirect(
  procedure: DirectProcedure,
  path: string,
  ctx: Context,
  rawInput: unknown,
): Promise<unknown> {
  const started = performance.now();
  try {
    await spendSocketBudget(ctx);
    const auth = await ctx.identify();
    let input: unknown;
    try {
      input = await procedure.parse(rawInput);
    } catch (cause) {
      throw new TRPCError({ code: 'BAD_REQUEST', cause });
    }
    const output = await procedure.resolve({
      ctx: { ...ctx, user: auth.user, sessionId: auth.sessionId },
      input: input as never,
    });
    procedureDone(ctx, path, procedure.type, started, null);
    return output;
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    procedureDone(ctx, path, procedure.type, started, error.code);
    throw error;
  }
}
