import { getTRPCErrorFromUnknown, TRPCError } from '@trpc/server';
import { z } from 'zod';
import type { Context } from './context.ts';
import { streamProcedure } from './routers/events.ts';
import { sendProcedure } from './routers/messages.ts';
import { type AuthedContext, authedContext, procedureDone, spendSocketBudget } from './trpc.ts';

/** The input as the procedure's schema parses it: at once, unless the schema has an async step. */
type Parse = (value: unknown) => unknown;

interface DirectProcedure {
  readonly type: 'query' | 'mutation' | 'subscription';
  readonly parse: Parse;
  readonly resolve: (opts: { ctx: AuthedContext; input: never }) => unknown;
}

/**
 * tRPC parses input with zod's `parseAsync`, a promise per check; these
 * schemas have no async step, so `parse` gives the same value or the same
 * ZodError at once. Should one gain an async step, zod says so and the
 * input is parsed again the async way.
 */
function parseFirstAtOnce(schema: z.ZodType): Parse {
  return (value) => {
    try {
      return schema.parse(value);
    } catch (error) {
      if (error instanceof z.core.$ZodAsyncError) return schema.parseAsync(value);
      throw error;
    }
  };
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
    { type: 'mutation', parse: parseFirstAtOnce(sendProcedure.input), resolve: sendProcedure.resolve },
  ],
  // Every socket opens it once: what a crowd reconnecting after a restart costs.
  [
    'events.stream',
    {
      type: 'subscription',
      parse: parseFirstAtOnce(streamProcedure.input),
      resolve: streamProcedure.resolve,
    },
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
    // Each step awaited only when it did not finish at once (a memory budget, a sync parse).
    const spending = spendSocketBudget(ctx);
    if (spending) await spending;
    const auth = await ctx.identify();
    let input: unknown;
    try {
      input = procedure.parse(rawInput);
      if (input instanceof Promise) input = await input;
    } catch (cause) {
      throw new TRPCError({ code: 'BAD_REQUEST', cause });
    }
    const output = await procedure.resolve({
      ctx: authedContext(ctx, auth),
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
