import {
  conversationsRepository,
  type MessageRow,
  messagesRepository,
  type NewMessage,
  newMessageRow,
  type StoreOutcome,
  usersRepository,
} from '@pneumatic/db';
import type { TRPCError } from '@trpc/server';
import type { ApiDeps } from '../deps.ts';
import { fail, unknownId } from '../errors.ts';
import type { Message, SendMessageInput } from '../schemas/messages.schema.ts';
import { timeOrderedId } from '../time-ordered-id.ts';
import { mentionedNames, storedMentions } from './mentions.ts';
import { type Quote, quoteFor } from './replies.ts';
import { toMessage } from './views.ts';

export interface SendResult {
  message: Message;
  /** False when the sender had already sent this message_id: nothing new was stored or delivered. */
  created: boolean;
}

interface PendingSend {
  senderId: string;
  input: SendMessageInput;
  /** The files the message carries, already claimed for it (files.service.ts). */
  files: { attachments: string; attachment_names: string } | undefined;
  resolve(result: SendResult): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; result: SendResult } | { ok: false; error: TRPCError };

/** A batch after its commit, before its announcement (or the store's failure, which fails all of it). */
type Written =
  | {
      batch: PendingSend[];
      /** Filled for the sends refused before the store; the rest are decided by what it stored. */
      outcomes: (Outcome | undefined)[];
      members: Map<string, string[]>;
      toStore: NewMessage[];
      /** The batch index of each message handed to the store. */
      storedAt: number[];
      stored: StoreOutcome[];
      /** [index, index of the first send of the same message_id in the batch]. */
      repeats: [number, number][];
    }
  | { batch: PendingSend[]; failed: unknown };

/** What a reply or a mention adds to a send's row; null for a reply to no message of its conversation. */
type Extras = (Quote & Pick<NewMessage, 'mentions'>) | null;

/** Messages announced in one go, before other work gets a turn. */
const ANNOUNCE_CHUNK = 32;
/** Conversations whose members are kept in memory. */
const MEMBERSHIP_CACHE_SIZE = 50_000;
/** Usernames whose user ids are kept in memory, for mentions (a deleted account's is freed: see #loadExtras). */
const USERNAME_CACHE_SIZE = 100_000;
const IDEMPOTENCY_CONFLICT = 'message_id already used for a different message';

/** A repeat of a stored message: the same conversation and text answer with it, anything else is a conflict. */
function repeatOf(stored: MessageRow, input: SendMessageInput): Outcome {
  return stored.conversation_id === input.conversation_id && stored.content === input.content
    ? { ok: true, result: { message: toMessage(stored), created: false } }
    : { ok: false, error: fail.conflict(IDEMPOTENCY_CONFLICT) };
}

/**
 * Group commit. Sends that arrive while a batch is being written wait and
 * go together in the next one: one commit (one fsync with
 * SQLITE_SYNCHRONOUS=FULL) for many messages, each acknowledged only after
 * its commit. When idle, a send is written at once. The store writes
 * (message-store.ts: a thread of its own for SQLite); this decides who may
 * send what, answers repeats, and announces what was stored.
 *
 * Membership is cached per conversation and refreshed from the bus whenever
 * a conversation changes, so the hot path reads no member lists.
 */
export class MessageWriter {
  readonly #queue: PendingSend[] = [];
  readonly #members = new Map<string, string[]>();
  /** Lowercased username → user id, learned as mentions name them. */
  readonly #userIds = new Map<string, string>();
  #running = false;
  #idle: (() => void)[] = [];
  readonly #unsubscribe: () => void;

  constructor(readonly deps: Pick<ApiDeps, 'database' | 'bus' | 'observer'>) {
    this.#unsubscribe = deps.bus.subscribe((event) => {
      if (event.kind === 'conversation') this.#remember(event.conversation.id, event.conversation.members);
    });
  }

  send(
    senderId: string,
    input: SendMessageInput,
    files?: { attachments: string; attachment_names: string },
  ): Promise<SendResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ senderId, input, files, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        setImmediate(() => void this.#drain());
      }
    });
  }

  /** Resolves once every queued send is written (or failed): call before closing the database. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
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

  /**
   * One batch commits on the store while the one before it is announced: the
   * writer thread and the event loop work at once. At most one of each, so a
   * batch that commits faster than the sockets take the one before waits, and
   * announcements keep the order of the commits.
   */
  async #drain(): Promise<void> {
    let committing: Promise<Written> | undefined = this.#commitNext();
    while (committing) {
      const written = await committing;
      // The next batch is handed over before this one is announced.
      committing = this.#commitNext();
      // A send already answered stays answered; the rest learn what went wrong.
      await this.#announce(written).catch((error: unknown) => {
        for (const pending of written.batch) pending.reject(error);
      });
      // Sends that came while it was announced, with no batch in flight, go now.
      committing ??= this.#commitNext();
    }
    this.#running = false;
    for (const wake of this.#idle.splice(0)) wake();
  }

  #commitNext(): Promise<Written> | undefined {
    if (this.#queue.length === 0) return undefined;
    const batch = this.#queue.splice(0, this.deps.database.messages.maxBatch);
    this.deps.observer.batchWritten?.(batch.length);
    return this.#commit(batch).catch((error: unknown) => ({ batch, failed: error }));
  }

  /**
   * Decides who may send what, and stores the rest (one transaction). The
   * batch reaches the store synchronously when its conversations' members
   * are cached, before whatever the caller does next.
   */
  #commit(batch: PendingSend[]): Promise<Written> {
    const conversationIds = [...new Set(batch.map((p) => p.input.conversation_id))];
    const missing = conversationIds.filter((id) => !this.#members.has(id));
    if (missing.length === 0) return this.#store(batch, this.#membersOf(conversationIds));
    return conversationsRepository.listMembersOf(this.deps.database.db, missing).then((loaded) => {
      for (const [id, members] of loaded) this.#remember(id, members);
      return this.#store(batch, this.#membersOf(conversationIds));
    });
  }

  /** The cached members of each of these conversations, as this batch sees them (the cache may move on meanwhile). */
  #membersOf(conversationIds: string[]): Map<string, string[]> {
    const members = new Map<string, string[]>();
    for (const id of conversationIds) {
      const list = this.#members.get(id);
      if (list) members.set(id, list);
    }
    return members;
  }

  /**
   * The quotes and mentions of the members' sends that reply or have an `@`,
   * by batch index; undefined, at no further cost, when none does.
   */
  #extrasOf(batch: PendingSend[], members: Map<string, string[]>): Promise<Map<number, Extras>> | undefined {
    const wanted: number[] = [];
    batch.forEach((p, i) => {
      if (!p.input.reply_to && !p.input.content.includes('@')) return;
      if (members.get(p.input.conversation_id)?.includes(p.senderId)) wanted.push(i);
    });
    return wanted.length > 0 ? this.#loadExtras(batch, wanted, members) : undefined;
  }

  async #loadExtras(
    batch: PendingSend[],
    wanted: number[],
    members: Map<string, string[]>,
  ): Promise<Map<number, Extras>> {
    const names = new Map<number, string[]>();
    const replyIds = new Set<string>();
    const unknownNames = new Set<string>();
    for (const i of wanted) {
      const { content, reply_to, conversation_id } = batch[i]!.input;
      if (reply_to) replyIds.add(reply_to);
      const mentioned = mentionedNames(content);
      names.set(i, mentioned);
      const list = members.get(conversation_id)!;
      for (const name of mentioned) {
        // A name learned for someone who is not a member is asked again: a deleted account's
        // username is freed, and may belong to someone else now.
        const known = this.#userIds.get(name);
        if (known === undefined || !list.includes(known)) unknownNames.add(name);
      }
    }
    const { db } = this.deps.database;
    const [quoted, found] = await Promise.all([
      messagesRepository.findMessagesByIds(db, [...replyIds]),
      usersRepository.findIdsByUsernames(db, [...unknownNames]),
    ]);
    for (const name of unknownNames) if (!found.has(name)) this.#userIds.delete(name);
    for (const [name, id] of found) {
      if (this.#userIds.size >= USERNAME_CACHE_SIZE) this.#userIds.delete(this.#userIds.keys().next().value!);
      this.#userIds.set(name, id);
    }
    const quotedById = new Map(quoted.map((row) => [row.id, row]));
    const extras = new Map<number, Extras>();
    for (const i of wanted) {
      const { conversation_id, reply_to } = batch[i]!.input;
      const quote = reply_to ? quoteFor(conversation_id, quotedById.get(reply_to)) : {};
      const mentions = storedMentions(names.get(i)!, this.#userIds, members.get(conversation_id)!);
      extras.set(i, quote && { ...quote, mentions });
    }
    return extras;
  }

  async #store(batch: PendingSend[], members: Map<string, string[]>): Promise<Written> {
    const outcomes: (Outcome | undefined)[] = new Array(batch.length);
    const extrasLoading = this.#extrasOf(batch, members);
    const extras = extrasLoading && (await extrasLoading);

    // Who may send where (404 for no such conversation, 403 for a non-member); a message_id sent
    // twice in one batch is stored once, for the first, and the second is its repeat.
    const now = new Date().toISOString();
    const toStore: NewMessage[] = [];
    const storedAt: number[] = [];
    const firstOf = new Map<string, number>();
    const repeats: [number, number][] = [];
    batch.forEach((p, i) => {
      const list = members.get(p.input.conversation_id);
      if (!list) outcomes[i] = { ok: false, error: unknownId.conversation() };
      else if (!list.includes(p.senderId)) outcomes[i] = { ok: false, error: fail.notMember() };
      else if (extras?.get(i) === null) outcomes[i] = { ok: false, error: unknownId.replyTo() };
      else {
        const key = `${p.senderId}\n${p.input.message_id}`;
        const first = firstOf.get(key);
        if (first !== undefined) {
          repeats.push([i, first]);
          return;
        }
        firstOf.set(key, i);
        storedAt.push(i);
        toStore.push({
          // Time-ordered: each insert lands at the end of the id index, not on a random page.
          id: timeOrderedId(),
          conversation_id: p.input.conversation_id,
          sender_id: p.senderId,
          message_id: p.input.message_id,
          content: p.input.content,
          created_at: now,
          ...extras?.get(i),
          attachments: p.files?.attachments ?? null,
          attachment_names: p.files?.attachment_names ?? null,
        });
      }
    });

    const stored = toStore.length > 0 ? await this.deps.database.messages.store(toStore) : [];
    return { batch, outcomes, members, toStore, storedAt, stored, repeats };
  }

  /** Publishes what a batch stored, then answers each of its sends. */
  async #announce(written: Written): Promise<void> {
    const { batch } = written;
    if ('failed' in written) {
      for (const pending of batch) pending.reject(written.failed);
      return;
    }
    const { outcomes, members, toStore, storedAt, stored, repeats } = written;
    const { observer, bus } = this.deps;
    for (const [k, outcome] of stored.entries()) {
      // A big batch is announced a chunk at a time, other work let in between: delivering it
      // all at once (a write per socket per message) held the event loop for tens of ms.
      if (k > 0 && k % ANNOUNCE_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
      const i = storedAt[k]!;
      const m = toStore[k]!;
      if ('missing' in outcome) outcomes[i] = { ok: false, error: unknownId.conversation() };
      else if ('existing' in outcome) outcomes[i] = repeatOf(outcome.existing, batch[i]!.input);
      else {
        const message = toMessage(newMessageRow(m, outcome.stored.seq, outcome.stored.pos));
        outcomes[i] = { ok: true, result: { message, created: true } };
        observer.messageStored?.(message);
        bus.publish({
          kind: 'message',
          pos: outcome.stored.pos,
          recipients: members.get(m.conversation_id)!,
          message,
        });
      }
    }
    // Repeats within the batch answer as their first did, if they ask the same.
    for (const [i, first] of repeats) {
      const original = outcomes[first]!;
      const same =
        batch[i]!.input.conversation_id === batch[first]!.input.conversation_id &&
        batch[i]!.input.content === batch[first]!.input.content;
      outcomes[i] = !same
        ? { ok: false, error: fail.conflict(IDEMPOTENCY_CONFLICT) }
        : original.ok
          ? { ok: true, result: { message: original.result.message, created: false } }
          : original;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) pending.resolve(outcome.result);
      else pending.reject(outcome.error);
    });
  }
}
