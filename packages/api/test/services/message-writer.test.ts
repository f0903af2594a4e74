import { randomUUID } from 'node:crypto';
import { DIALECTS } from '@pneumatic/db/testing';
import { TRPCError } from '@trpc/server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/deps.ts';
import { ConnectionHub } from '../../src/realtime/connection-hub.ts';
import { InProcessEventBus, type LogBusEvent } from '../../src/realtime/event-bus.ts';
import { createConversation } from '../../src/services/conversations.service.ts';
import { followLogOf } from '../../src/services/log-reader.ts';
import { addMembers, leaveConversation } from '../../src/services/membership.service.ts';
import { MessageWriter, type SendResult } from '../../src/services/message-writer.ts';
import { openTestApi, type TestApi } from '../helpers/test-api.ts';

/** The tRPC code a send was refused with. */
async function refusal(send: Promise<SendResult>): Promise<string> {
  const error = await send.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  return error.code;
}

describe.each(DIALECTS)('MessageWriter (%s)', (dialect) => {
  let api: TestApi;
  let deps: ApiDeps;
  let alice: string;
  let bob: string;
  let dave: string;
  /** Member of no room unless a test adds her. */
  let carol: string;
  let writer: MessageWriter;
  let batches: number[];
  let announced: Extract<LogBusEvent, { kind: 'message' }>[];
  let stopListening: () => void;

  beforeAll(async () => {
    api = await openTestApi(dialect);
    deps = api.deps;
    alice = await api.signup('alice');
    bob = await api.signup('bob');
    dave = await api.signup('dave');
    carol = await api.signup('carol');
  });
  afterAll(() => api.close());

  beforeEach(() => {
    batches = [];
    announced = [];
    deps.observer = { batchWritten: (size) => batches.push(size) };
    stopListening = deps.bus.subscribe((event) => {
      if (event.kind === 'message') announced.push(event);
    });
    writer = new MessageWriter(deps);
  });
  afterEach(async () => {
    await writer.close();
    stopListening();
  });

  /** A new group of alice, bob and dave: its seqs start at 1. */
  const newRoom = async () =>
    (await createConversation(deps, alice, { title: 'room', member_ids: [bob, dave] })).id;
  const send = (
    senderId: string,
    conversationId: string,
    content: string,
    messageId: string = randomUUID(),
  ) => writer.send(senderId, { conversation_id: conversationId, message_id: messageId, content });
  const stored = (conversationId: string) =>
    deps.database.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute();

  it('writes the sends of one tick in one transaction, each with the next seq of its conversation', async () => {
    const [red, blue] = [await newRoom(), await newRoom()];

    const results = await Promise.all([
      send(alice, red, 'red 1'),
      send(bob, blue, 'blue 1'),
      send(bob, red, 'red 2'),
      send(dave, blue, 'blue 2'),
      send(alice, red, 'red 3'),
    ]);

    expect(batches).toEqual([5]);
    expect(results.map((r) => [r.message.content, r.message.seq, r.created])).toEqual([
      ['red 1', 1, true],
      ['blue 1', 1, true],
      ['red 2', 2, true],
      ['blue 2', 2, true],
      ['red 3', 3, true],
    ]);
    // One transaction: one timestamp for all.
    expect(new Set(results.map((r) => r.message.created_at)).size).toBe(1);
    const messages = results.map((r) => r.message);
    expect((await stored(red)).map((row) => row.id)).toEqual([
      messages[0]!.id,
      messages[2]!.id,
      messages[4]!.id,
    ]);
    expect((await stored(blue)).map((row) => row.id)).toEqual([messages[1]!.id, messages[3]!.id]);
    expect(results[0]!.message).toMatchObject({ sender_id: alice, conversation_id: red, kind: 'user' });
  });

  it('gathers the sends that arrive while a batch is written into the next one', async () => {
    const room = await newRoom();
    const first = [send(alice, room, 'one'), send(bob, room, 'two'), send(dave, room, 'three')];
    // The writer has taken the first three and is writing them.
    await new Promise((resolve) => setImmediate(resolve));
    const second = [send(alice, room, 'four'), send(bob, room, 'five')];

    const results = await Promise.all([...first, ...second]);

    expect(batches).toEqual([3, 2]);
    expect(results.map((r) => r.message.seq)).toEqual([1, 2, 3, 4, 5]);
    expect((await stored(room)).map((row) => row.content)).toEqual(['one', 'two', 'three', 'four', 'five']);
  });

  it('writes a backlog bigger than a batch in full batches, every send once, in order', async () => {
    const room = await newRoom();
    const senders = [alice, bob, dave];
    const max = deps.database.messages.maxBatch;
    const count = 2 * max + 100;

    const results = await Promise.all(
      Array.from({ length: count }, (_, i) => send(senders[i % 3]!, room, `backlog ${i}`)),
    );

    expect(batches).toEqual([max, max, 100]);
    expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    const rows = await stored(room);
    expect(rows.map((row) => row.content)).toEqual(results.map((r) => r.message.content));
    expect(announced.map((event) => event.message.id)).toEqual(results.map((r) => r.message.id));
  });

  it('hands the next batch to the store before announcing the one before, and announces in commit order', async () => {
    const room = await newRoom();
    const steps: string[] = [];
    const store = deps.database.messages.store.bind(deps.database.messages);
    let second: Promise<SendResult>[] = [];
    deps.database.messages.store = (batch) => {
      steps.push(`store ${batch.length}`);
      const storing = store(batch);
      // Two more come while the first batch is being stored.
      if (second.length === 0) second = [send(bob, room, 'b0'), send(bob, room, 'b1')];
      return storing;
    };
    const stopLogging = deps.bus.subscribe((event) => {
      if (event.kind === 'message') steps.push(`announce ${event.message.content}`);
    });
    try {
      const first = Array.from({ length: 40 }, (_, i) => send(alice, room, `a${i}`));
      await Promise.all(first);
      const results = [...(await Promise.all(first)), ...(await Promise.all(second))];

      expect(steps).toEqual([
        'store 40',
        // Stored while the first batch is announced: the store and the sockets overlap.
        'store 2',
        ...Array.from({ length: 40 }, (_, i) => `announce a${i}`),
        'announce b0',
        'announce b1',
      ]);
      expect(results.map((r) => r.message.seq)).toEqual(Array.from({ length: 42 }, (_, i) => i + 1));
    } finally {
      stopLogging();
      deps.database.messages.store = store;
    }
  });

  it('fails only the batch whose store failed, and goes on with the next', async () => {
    const room = await newRoom();
    const store = deps.database.messages.store.bind(deps.database.messages);
    let calls = 0;
    deps.database.messages.store = (batch) =>
      ++calls === 1 ? Promise.reject(new Error('disk on fire')) : store(batch);
    try {
      const first = send(alice, room, 'lost').then(
        () => 'stored',
        (error: Error) => error.message,
      );
      await new Promise((resolve) => setImmediate(resolve));
      const second = send(bob, room, 'kept');

      expect(await first).toBe('disk on fire');
      expect((await second).message).toMatchObject({ content: 'kept', seq: 1 });
      expect((await stored(room)).map((row) => row.content)).toEqual(['kept']);
    } finally {
      deps.database.messages.store = store;
    }
  });

  it('answers a repeated message_id with the original and stores it once, in one batch and across batches', async () => {
    const room = await newRoom();
    const messageId = randomUUID();

    const [original, sameBatch] = await Promise.all([
      send(alice, room, 'hello', messageId),
      send(alice, room, 'hello', messageId),
    ]);
    const later = await send(alice, room, 'hello', messageId);

    expect(batches).toEqual([2, 1]);
    expect(original.created).toBe(true);
    expect(sameBatch).toEqual({ message: original.message, created: false });
    expect(later).toEqual({ message: original.message, created: false });
    expect(await stored(room)).toHaveLength(1);
    expect(announced.map((e) => e.message.id)).toEqual([original.message.id]);
  });

  it('keeps message_ids apart per sender', async () => {
    const room = await newRoom();
    const messageId = randomUUID();

    const [fromAlice, fromBob] = await Promise.all([
      send(alice, room, 'hello', messageId),
      send(bob, room, 'hello', messageId),
    ]);

    expect([fromAlice.created, fromBob.created]).toEqual([true, true]);
    expect(fromBob.message.id).not.toBe(fromAlice.message.id);
    expect(await stored(room)).toHaveLength(2);
  });

  it('refuses a message_id used for other content or another conversation with CONFLICT', async () => {
    const room = await newRoom();
    const otherRoom = await newRoom();
    const messageId = randomUUID();

    const original = send(alice, room, 'first', messageId);
    const sameBatch = send(alice, room, 'second', messageId);
    expect((await original).created).toBe(true);
    expect(await refusal(sameBatch)).toBe('CONFLICT');
    expect(await refusal(send(alice, room, 'third', messageId))).toBe('CONFLICT');
    expect(await refusal(send(alice, otherRoom, 'first', messageId))).toBe('CONFLICT');
    expect(batches).toEqual([2, 1, 1]);

    expect((await stored(room)).map((row) => row.content)).toEqual(['first']);
    expect(await stored(otherRoom)).toEqual([]);
  });

  it('refuses an unknown conversation with NOT_FOUND and a non-member with FORBIDDEN', async () => {
    const room = await newRoom();

    expect(await refusal(send(alice, randomUUID(), 'anyone there?'))).toBe('NOT_FOUND');
    expect(await refusal(send(carol, room, 'let me in'))).toBe('FORBIDDEN');
    expect(await stored(room)).toEqual([]);
    expect(announced).toEqual([]);
  });

  it('writes the good sends of a batch when others in it are refused', async () => {
    const room = await newRoom();
    const messageId = randomUUID();

    const outcomes = await Promise.allSettled([
      send(alice, room, 'good 1', messageId),
      send(alice, randomUUID(), 'no such room'),
      send(carol, room, 'not a member'),
      send(alice, room, 'same id, other text', messageId),
      send(bob, room, 'good 2'),
    ]);

    expect(batches).toEqual([5]);
    expect(
      outcomes.map((o) => (o.status === 'fulfilled' ? o.value.message.seq : (o.reason as TRPCError).code)),
    ).toEqual([1, 'NOT_FOUND', 'FORBIDDEN', 'CONFLICT', 2]);
    expect((await stored(room)).map((row) => row.content)).toEqual(['good 1', 'good 2']);
  });

  it('announces one message event per stored message, to the members, in log order', async () => {
    const room = await newRoom();
    const messageId = randomUUID();

    const results = await Promise.all([
      send(alice, room, 'one', messageId),
      send(alice, room, 'one', messageId),
      send(bob, room, 'two'),
    ]);
    await send(dave, room, 'three');

    expect(announced.map((e) => e.message)).toEqual([
      results[0]!.message,
      results[2]!.message,
      expect.objectContaining({ content: 'three' }),
    ]);
    for (const event of announced) expect([...event.recipients].sort()).toEqual([alice, bob, dave].sort());
    const first = announced[0]!.pos;
    expect(announced.map((e) => e.pos)).toEqual([first, first + 1, first + 2]);
  });

  it('stores what a hub that missed the announcements reads back as the same events', async () => {
    const room = await newRoom();
    // Another instance: its bus hears nothing of this writer's commits.
    const otherHub = new ConnectionHub(new InProcessEventBus(), await followLogOf(deps.database.db));
    const received: LogBusEvent[] = [];
    otherHub.addListener({
      userId: dave,
      deliver: (event) => {
        if ('pos' in event) received.push(event);
      },
    });

    await Promise.all([send(alice, room, 'one'), send(bob, room, 'two')]);
    await otherHub.catchUp();
    otherHub.close();

    const sorted = (events: LogBusEvent[]) =>
      events.map((e) => ({ ...e, recipients: [...e.recipients].sort() }));
    expect(received).toHaveLength(2);
    expect(sorted(received)).toEqual(sorted(announced));
  });

  it('follows membership changes announced on the bus', async () => {
    const room = await newRoom();
    await send(alice, room, 'before');
    expect(await refusal(send(carol, room, 'too early'))).toBe('FORBIDDEN');

    await addMembers(deps, alice, { conversation_id: room, user_ids: [carol] });
    expect((await send(carol, room, 'hello all')).created).toBe(true);

    await leaveConversation(deps, dave, room);
    expect(await refusal(send(dave, room, 'one more thing'))).toBe('FORBIDDEN');
  });

  it('idle() resolves once every queued send is written', async () => {
    const room = await newRoom();
    let settled = 0;
    const sends = ['a', 'b', 'c', 'd'].map((content) => send(alice, room, content).finally(() => settled++));

    await writer.idle();

    expect(settled).toBe(sends.length);
    expect(await stored(room)).toHaveLength(sends.length);
  });
});
