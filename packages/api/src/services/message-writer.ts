import { conversationsRepository, logRepository, type MessageRow, messagesRepository } from '@pneumatic/db';
import type { TRPCError } from '@trpc/server';
import { v7 as timeOrderedId } from 'uuid';
import type { ApiDeps } from '../deps.ts';
import { fail, unknownId } from '../errors.ts';
import type { Message, SendMessageInput } from '../schemas/messages.schema.ts';
import { toMessage } from './views.ts';

export interface SendResult {
  message: Message;
  /** False when the sender had already sent this message_id: nothing new was stored or delivered. */
  created: boolean;
}

interface PendingSend {
  senderId: string;
  input: SendMessageInput;
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: SendResult } | { ok: false; error: TRPCError };

/** Most sends in one transaction. */
const MAX_BATCH = 256;
/** Conversations whose members are kept in memory. */
const MEMBERSHIP_CACHE_SIZE = 50_000;
const IDEMPOTENCY_CONFLICT = 'message_id already used for a different message';

/** A batch lost a race with another writer over a message_id: roll back and try again. */
class LostRace extends Error {}

/**
 * Group commit. Sends that arrive while a transaction is being written wait
 * and go together in the next one: one commit (one fsync with
 * SQLITE_SYNCHRONOUS=FULL) for many messages, each acknowledged only after
 * its commit. When idle, a send is written at once.
 *
 * Membership is cached per conversation and refreshed from the bus whenever
 * a conversation changes, so the hot path reads no member lists.
 */
export class MessageWriter {
  readonly #queue: PendingSend[] = [];
  readonly #members = new Map<string, string[]>();
  #running = false;
  readonly #unsubscribe: () => void;

  constructor(readonly deps: Pick<ApiDeps, 'database' | 'bus' | 'observer'>) {
    this.#unsubscribe = deps.bus.subscribe((event) => {
      if (event.kind === 'conversation') this.#remember(event.conversation.id, event.conversation.members);
    });
  }

  send(senderId: string, input: SendMessageInput): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ senderId, input, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  /** Resolves once every queued send is written (or failed): call before closing the database. */
  async idle(): Promise<void> {
    while (this.#running) await new Promise((resolve) => setImmediate(resolve));
  }

  /** Writes what is queued, then stops listening to the bus. */
  async close(): Promise<void> {
    await this.idle();
    this.#unsubscribe();
  }

  #remember(conversationId: string, members: string[]): void {
    this.#members.delete(conversationId);
    // Bounded: the least recently learned conversations are read again when needed.
    if (this.#members.size >= MEMBERSHIP_CACHE_SIZE) this.#members.delete(this.#members.keys().next().value!);
    this.#members.set(conversationId, members);
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      this.deps.observer.batchWritten?.(batch.length);
      try {
        const outcomes = await this.#writeWithRetry(batch);
        batch.forEach((pending, i) => {
          const outcome = outcomes[i]!;
          if (outcome.ok) pending.resolve(outcome.result);
          else pending.reject(outcome.error);
        });
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    this.#running = false;
  }

  async #writeWithRetry(batch: PendingSend[]): Promise<Outcome[]> {
    try {
      return await this.#write(batch);
    } catch (error) {
      if (!(error instanceof LostRace)) throw error;
      // The retry finds the other writer's messages and answers with them.
      return this.#write(batch);
    }
  }

  async #membersOf(conversationIds: string[]): Promise<Map<string, string[]>> {
    const missing = conversationIds.filter((id) => !this.#members.has(id));
    if (missing.length > 0) {
      const loaded = await conversationsRepository.listMembersOf(this.deps.database.db, missing);
      for (const [id, members] of loaded) this.#remember(id, members);
    }
    return this.#members;
  }

  async #write(batch: PendingSend[]): Promise<Outcome[]> {
    const { db } = this.deps.database;
    const outcomes: (Outcome | undefined)[] = new Array(batch.length);
    const members = await this.#membersOf([...new Set(batch.map((p) => p.input.conversation_id))]);

    // Who may send where: 404 for no such conversation, 403 for a non-member.
    const allowed: number[] = [];
    batch.forEach((p, i) => {
      const list = members.get(p.input.conversation_id);
      if (!list) outcomes[i] = { ok: false, error: unknownId.conversation() };
      else if (!list.includes(p.senderId)) {
        outcomes[i] = { ok: false, error: fail.forbidden('Not a member of this conversation') };
      } else allowed.push(i);
    });

    const stored = await db.transaction().execute(async (trx) => {
      const now = new Date().toISOString();
      // Repeats of a stored message_id answer with the stored message.
      const existing = await messagesRepository.findMessagesBySender(
        trx,
        allowed.map((i) => ({ senderId: batch[i]!.senderId, messageId: batch[i]!.input.message_id })),
      );
      const byKey = new Map<string, MessageRow | number>(
        existing.map((m) => [`${m.sender_id}\n${m.message_id}`, m]),
      );
      let fresh: number[] = [];
      for (const i of allowed) {
        const { senderId, input } = batch[i]!;
        const key = `${senderId}\n${input.message_id}`;
        const earlier = byKey.get(key);
        if (earlier === undefined) {
          byKey.set(key, i);
          fresh.push(i);
          continue;
        }
        // A repeat: of a stored message, or of one earlier in this batch (answered after the write).
        const same =
          typeof earlier === 'number'
            ? batch[earlier]!.input.conversation_id === input.conversation_id &&
              batch[earlier]!.input.content === input.content
            : earlier.conversation_id === input.conversation_id && earlier.content === input.content;
        if (!same) outcomes[i] = { ok: false, error: fail.conflict(IDEMPOTENCY_CONFLICT) };
        else if (typeof earlier !== 'number')
          outcomes[i] = { ok: true, result: { message: toMessage(earlier), created: false } };
      }
      if (fresh.length === 0) return { rows: [] as MessageRow[], byKey };

      // Seqs per conversation (one statement; rows locked in a fixed order, so no deadlock
      // between writers), then log positions last: the log_head lock is held only for the insert and the commit.
      const counts = new Map<string, number>();
      for (const i of fresh) {
        const id = batch[i]!.input.conversation_id;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const nextSeq = await conversationsRepository.takeSeqsOfMany(trx, counts, now);
      // A conversation deleted since its members were read: nothing to send to.
      fresh = fresh.filter((i) => {
        if (nextSeq.has(batch[i]!.input.conversation_id)) return true;
        outcomes[i] = { ok: false, error: unknownId.conversation() };
        return false;
      });
      if (fresh.length === 0) return { rows: [] as MessageRow[], byKey };
      const seqs = new Map<number, number>();
      // What you sent yourself is not unread for you (before the log lock, which is held to commit).
      const ownLatest = new Map<string, { conversationId: string; userId: string; seq: number }>();
      for (const i of fresh) {
        const { senderId, input } = batch[i]!;
        const seq = nextSeq.get(input.conversation_id)!;
        nextSeq.set(input.conversation_id, seq + 1);
        seqs.set(i, seq);
        ownLatest.set(`${input.conversation_id}\n${senderId}`, {
          conversationId: input.conversation_id,
          userId: senderId,
          seq,
        });
      }
      await conversationsRepository.readUpToMany(trx, [...ownLatest.values()]);
      const firstPos = await logRepository.takePositions(trx, fresh.length);
      const rows: MessageRow[] = fresh.map((i, k) => {
        const { senderId, input } = batch[i]!;
        return {
          // Time-ordered: each insert lands at the end of the id index, not on a random page.
          id: timeOrderedId(),
          conversation_id: input.conversation_id,
          seq: seqs.get(i)!,
          pos: firstPos + k,
          sender_id: senderId,
          message_id: input.message_id,
          content: input.content,
          created_at: now,
          edited_at: null,
          deleted_at: null,
          kind: 'user',
          system: null,
        };
      });
      if ((await messagesRepository.insertMessages(trx, rows)) !== rows.length) throw new LostRace();
      return { rows, byKey };
    });

    const { observer, bus } = this.deps;
    for (const row of stored.rows) {
      const message = toMessage(row);
      const i = stored.byKey.get(`${row.sender_id}\n${row.message_id}`) as number;
      outcomes[i] = { ok: true, result: { message, created: true } };
      observer.messageStored?.(message);
      bus.publish({ kind: 'message', pos: row.pos, recipients: members.get(row.conversation_id)!, message });
    }
    // Repeats within the batch answer with the message stored for the first.
    batch.forEach((p, i) => {
      if (outcomes[i]) return;
      const first = stored.byKey.get(`${p.senderId}\n${p.input.message_id}`);
      const original = typeof first === 'number' ? outcomes[first] : undefined;
      outcomes[i] =
        original?.ok === true
          ? { ok: true, result: { message: original.result.message, created: false } }
          : { ok: false, error: fail.conflict(IDEMPOTENCY_CONFLICT) };
    });
    return outcomes as Outcome[];
  }
}
