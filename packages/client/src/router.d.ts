/**
 * The router's shape as plain data, and a router type rebuilt from it. The
 * SDK's public types hang off a {@link RouterFromProcedures}, so they carry
 * each procedure's input and output and nothing of the server that runs it.
 */
import type {
  AnyTRPCProcedure,
  inferProcedureInput,
  inferProcedureOutput,
  TRPCBuiltRouter,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCRouterRecord,
  TRPCSubscriptionProcedure,
} from '@trpc/server';
/** A query or mutation: what it takes and what it returns. */
export interface CallDescriptor {
  type: 'query' | 'mutation';
  input: unknown;
  output: unknown;
}
/** A subscription: what it takes and the events it yields; tracked events carry ids for resuming. */
export interface SubscriptionDescriptor {
  type: 'subscription';
  input: unknown;
  event: unknown;
  tracked: boolean;
}
export type ProcedureDescriptor = CallDescriptor | SubscriptionDescriptor;
/** Procedures and sub-routers by name, as plain data. */
export interface ProcedureDescriptors {
  [name: string]: ProcedureDescriptor | ProcedureDescriptors;
}
/** An event of a tracked subscription as the client gets it: `tracked(id, data)` on the server. */
export interface TrackedEvent<TData> {
  /** Sent back as `lastEventId` when the client resubscribes, to resume after this event. */
  id: string;
  data: TData;
}
type DescribeSubscription<P extends AnyTRPCProcedure> =
  inferProcedureOutput<P> extends AsyncIterable<infer Yielded>
    ? Yielded extends TrackedEvent<infer Event>
      ? {
          type: 'subscription';
          input: inferProcedureInput<P>;
          event: Event;
          tracked: true;
        }
      : {
          type: 'subscription';
          input: inferProcedureInput<P>;
          event: Yielded;
          tracked: false;
        }
    : never;
type DescribeProcedure<P extends AnyTRPCProcedure> = P['_def']['type'] extends 'subscription'
  ? DescribeSubscription<P>
  : {
      type: P['_def']['type'];
      input: inferProcedureInput<P>;
      output: inferProcedureOutput<P>;
    };
/** A router's record (`AppRouter['_def']['record']`) described as plain data. */
export type DescribeProcedures<TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends AnyTRPCProcedure
    ? DescribeProcedure<TRecord[K]>
    : DescribeProcedures<TRecord[K]>;
};
type ProcedureFrom<D> = D extends SubscriptionDescriptor
  ? TRPCSubscriptionProcedure<{
      input: D['input'];
      output: AsyncIterable<D['tracked'] extends true ? TrackedEvent<D['event']> : D['event'], void>;
      meta: object;
    }>
  : D extends CallDescriptor
    ? D['type'] extends 'query'
      ? TRPCQueryProcedure<{
          input: D['input'];
          output: D['output'];
          meta: object;
        }>
      : TRPCMutationProcedure<{
          input: D['input'];
          output: D['output'];
          meta: object;
        }>
    : never;
type RecordFrom<D> = {
  [K in keyof D]: D[K] extends ProcedureDescriptor ? ProcedureFrom<D[K]> : RecordFrom<D[K]>;
};
/**
 * A tRPC router type with the given procedures and error shape, for
 * `TRPCClient` and `TRPCClientError`. It has no context: a client never sees one.
 */
export type RouterFromProcedures<TProcedures, TErrorShape> =
  RecordFrom<TProcedures> extends infer TRecord extends TRPCRouterRecord
    ? TRPCBuiltRouter<
        {
          ctx: object;
          meta: object;
          errorShape: TErrorShape;
          transformer: false;
        },
        TRecord
      >
    : never;
