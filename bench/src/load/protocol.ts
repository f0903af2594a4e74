import type { HistogramData } from '../histogram.ts';
import type { ConversationSpec } from '../setup.ts';

/** How the load reaches the server: tRPC over /trpc, or the legacy JSON frames on /ws (real or baseline). */
export type Transport = 'trpc' | 'legacy';

export interface ConnectCommand {
  type: 'connect';
  transport: Transport;
  wsUrl: string;
  conversations: ConversationSpec[];
  /** tRPC only: also subscribe to events.stream (what every real client does). */
  subscribe: boolean;
}

export interface StepCommand {
  type: 'step';
  step: number;
  /** This worker's share of the messages per second. */
  rate: number;
  durationMs: number;
  /** Epoch ms at which message 0 is due: the same instant for every worker. */
  startAt: number;
  /** How long after the last scheduled send a missing delivery still counts as late rather than lost. */
  drainMs: number;
  /** Stop sending when more than this many ms of deliveries are outstanding: the step has failed. */
  maxBacklogMs: number;
  contentBytes: number;
}

export type ToWorker = ConnectCommand | StepCommand | { type: 'settle' } | { type: 'close' };

export interface StepReport {
  step: number;
  sent: number;
  /** Time from the first to the last actual send, ms. */
  sendSpanMs: number;
  expected: number;
  received: number;
  duplicates: number;
  /** Deliveries of an earlier step's messages that arrived during this one. */
  stale: number;
  sendErrors: number;
  aborted: boolean;
  latency: HistogramData;
  /** Cores this worker used while sending (1.0 = one core busy). */
  cpuShare: number;
  reconnects: number;
}

export type FromWorker =
  | { type: 'connected'; sockets: number; ms: number }
  | { type: 'stepDone'; report: StepReport }
  | { type: 'settled' }
  | { type: 'closed' }
  | { type: 'failed'; message: string };
