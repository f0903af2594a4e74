import { type RunningServer, startServer } from '@pneumatic/test-server';
import { createTRPCClient } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import {
  createPneumaticClient,
  errorCode,
  fieldErrors,
  isUnauthorized,
  type Message,
  type PneumaticRouter,
  type StreamEventWithId,
} from '../src/index.ts';
import { Collector, liveEvents, PASSWORD, signUp, uniqueName } from './support/people.ts';

// One server for the file: every test signs up its own people.
let server: RunningServer;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.close();
});

const messagesOf = (events: StreamEventWithId[]) =>
  events.flatMap((event) => (event.type === 'message' ? [event.message] : []));

describe('createPneumaticClient', () => {
  it('logs in and calls typed procedures over batched HTTP', async () => {
    const alice = await signUp(server.url, 'alice');
    const [me, users, conversations] = await Promise.all([
      alice.api.auth.me.query(),
      alice.api.users.list.query(),
      alice.api.conversations.list.query(),
    ]);
    expect(me).toMatchObject({ username: alice.username, full_name: 'alice' });
    expect(alice.userId).toBe(me.id);
    expect(Array.isArray(users.users)).toBe(true);
    expect(conversations).toEqual([]);
    await alice.close();
  });

  it('delivers a message to the other member on the event stream, with resumable ids', async () => {
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const bobEvents = await liveEvents(bob);
    const conversation = await alice.api.conversations.create.mutate({
      title: '',
      member_ids: [bob.userId!],
    });
    await bobEvents.until((items) => items.some((e) => e.type === 'conversation'));

    const sent = await alice.sendMessage(conversation.id, 'Hi Bob!');
    expect(sent).toMatchObject({ content: 'Hi Bob!', sender_id: alice.userId, seq: 1 });
    const events = await bobEvents.until((items) => messagesOf(items).length === 1);
    expect(messagesOf(events)[0]).toEqual(sent);
    expect(events.every((e) => /^\d+$/.test(e.eventId))).toBe(true);

    // A client that starts from an earlier event id is given what came after it.
    const conversationEvent = events.find((e) => e.type === 'conversation')!;
    const replay = new Collector(bob.events({ lastEventId: conversationEvent.eventId }));
    expect(messagesOf(await replay.until((items) => messagesOf(items).length === 1))).toEqual([sent]);
    await Promise.all([alice.close(), bob.close()]);
    await Promise.all([bobEvents.done, replay.done]);
    expect(bobEvents.error).toBeNull();
  });

  it('retries a send whose answer was lost with the same message_id, and the server stores it once', async () => {
    let lostAnswers = 0;
    const loseFirstSendAnswer: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (String(input).includes('messages.send') && lostAnswers === 0) {
        lostAnswers++;
        throw new TypeError('fetch failed');
      }
      return response;
    };
    const alice = await signUp(server.url, 'alice', { fetch: loseFirstSendAnswer });
    const conversation = await alice.api.conversations.create.mutate({ title: 'Notes', member_ids: [] });

    const message = await alice.sendMessage(conversation.id, 'only once', { messageId: 'note-1' });
    expect(lostAnswers).toBe(1);
    expect(message.message_id).toBe('note-1');
    const stored: Message[] = [];
    for await (const m of alice.history(conversation.id)) stored.push(m);
    expect(stored.map((m) => m.content)).toEqual(['only once']);

    // The same id with other content is a different message: the server refuses it.
    const conflict = await alice
      .sendMessage(conversation.id, 'changed', { messageId: 'note-1' })
      .catch((e) => e);
    expect(errorCode(conflict)).toBe('CONFLICT');
    await alice.close();
  });

  it('gives up after the configured retries when the network stays down', async () => {
    const alice = await signUp(server.url, 'alice');
    const conversation = await alice.api.conversations.create.mutate({ title: 'Notes', member_ids: [] });
    let attempts = 0;
    const offline = createPneumaticClient({
      url: server.url,
      tokens: alice.session.tokens,
      fetch: async (input) => {
        if (String(input).includes('messages.send')) attempts++;
        throw new TypeError('fetch failed');
      },
      reconnectDelayMs: () => 10,
      sendRetries: 2,
    });
    await expect(offline.sendMessage(conversation.id, 'lost')).rejects.toThrow(/fetch failed/);
    expect(attempts).toBe(3);
    await Promise.all([offline.close(), alice.close()]);
  });

  it('walks history back from the newest message, page by page', async () => {
    const cursors: unknown[] = [];
    const recordCursors: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      if (url.pathname.endsWith('/messages.list')) {
        cursors.push(JSON.parse(url.searchParams.get('input') ?? '{}')['0']?.cursor);
      }
      return fetch(input, init);
    };
    const alice = await signUp(server.url, 'alice', { fetch: recordCursors });
    const conversation = await alice.api.conversations.create.mutate({ title: 'Diary', member_ids: [] });
    for (let i = 1; i <= 7; i++) await alice.sendMessage(conversation.id, `entry ${i}`);

    const seen: string[] = [];
    for await (const message of alice.history(conversation.id, { pageSize: 3 })) seen.push(message.content);
    expect(seen).toEqual(['entry 7', 'entry 6', 'entry 5', 'entry 4', 'entry 3', 'entry 2', 'entry 1']);
    expect(cursors).toEqual([null, 5, 2]);

    const older: number[] = [];
    for await (const message of alice.history(conversation.id, { before: 3 })) older.push(message.seq);
    expect(older).toEqual([2, 1]);
    await alice.close();
  });

  it('reports errors with their tRPC codes and field errors', async () => {
    const client = createPneumaticClient({ url: server.url });
    const tooShort = await client
      .signup({ username: uniqueName('carol'), password: 'short' })
      .catch((e) => e);
    expect(errorCode(tooShort)).toBe('BAD_REQUEST');
    expect(fieldErrors(tooShort)?.password).toEqual(['Must be at least 8 characters']);

    const wrong = await client.login({ username: 'nobody-here', password: PASSWORD }).catch((e) => e);
    expect(isUnauthorized(wrong)).toBe(true);
    const signedOut = await client.api.auth.me.query().catch((e) => e);
    expect(errorCode(signedOut)).toBe('UNAUTHORIZED');

    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const theirs = await bob.api.conversations.create.mutate({ title: 'Private', member_ids: [] });
    const forbidden = await alice.api.conversations.get.query({ conversation_id: theirs.id }).catch((e) => e);
    expect(errorCode(forbidden)).toBe('FORBIDDEN');
    const missing = await alice.api.conversations.get
      .query({ conversation_id: '00000000-0000-4000-8000-000000000000' })
      .catch((e) => e);
    expect(errorCode(missing)).toBe('NOT_FOUND');
    await expect(alice.events({ lastEventId: 'not-an-id' }).next()).rejects.toSatisfy(
      (error) => errorCode(error) === 'BAD_REQUEST',
    );
    await Promise.all([client.close(), alice.close(), bob.close()]);
  });

  it('logs out: the tokens are gone and the server revoked the login', async () => {
    const alice = await signUp(server.url, 'alice');
    const tokens = alice.session.tokens!;
    await alice.logout();
    expect(alice.userId).toBeNull();
    const revived = createPneumaticClient({ url: server.url, tokens });
    await expect(revived.session.refresh()).rejects.toThrow(/Login expired/);
    await Promise.all([alice.close(), revived.close()]);
  });

  it('changes the password: the other login ends, this one stays; deleting the account ends it too', async () => {
    const alice = await signUp(server.url, 'alice');
    const laptop = createPneumaticClient({ url: server.url, WebSocket });
    await laptop.login({ username: alice.username, password: PASSWORD });
    const wrong = await alice.changePassword('not it', 'a newer long password').catch((e) => e);
    expect(fieldErrors(wrong)?.current_password).toEqual(['Password is incorrect']);
    await alice.changePassword(PASSWORD, 'a newer long password');
    expect(await alice.api.auth.me.query()).toMatchObject({ username: alice.username });
    await expect(laptop.session.refresh()).rejects.toThrow(/Login expired/);
    const sessions = await alice.api.account.sessions.query();
    expect(sessions).toEqual([expect.objectContaining({ current: true })]);

    await alice.deleteAccount('a newer long password');
    expect(alice.userId).toBeNull();
    await Promise.all([alice.close(), laptop.close()]);
  });

  it('ends events() when the client closes, without an error', async () => {
    const alice = await signUp(server.url, 'alice');
    const events = new Collector(alice.events());
    await new Promise((resolve) => setTimeout(resolve, 200));
    await alice.close();
    await events.done;
    expect(events.error).toBeNull();
  });

  it('lends its links to another tRPC client: the same login, token and socket', async () => {
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const other = createTRPCClient<PneumaticRouter>({ links: alice.links });
    expect(await other.auth.me.query()).toMatchObject({ id: alice.userId });

    expect(alice.connection.get()).toBe('closed');
    const got: unknown[] = [];
    const started = new Promise<void>((resolve, reject) => {
      other.events.stream.subscribe(
        {},
        { onStarted: () => resolve(), onData: (e) => got.push(e.data), onError: reject },
      );
    });
    await started;
    // The subscription went over the client's own socket.
    expect(alice.connection.get()).toBe('online');
    const conversation = await bob.api.conversations.create.mutate({
      title: '',
      member_ids: [alice.userId!],
    });
    const sent = await bob.sendMessage(conversation.id, 'over the lent links');
    await vi.waitFor(() => expect(got).toContainEqual({ type: 'message', message: sent }));
    await Promise.all([alice.close(), bob.close()]);
  });

  it('refuses events() while signed out', async () => {
    const client = createPneumaticClient({ url: server.url });
    await expect(client.events().next()).rejects.toThrow(/Signed out/);
    await client.close();
  });
});

describe('files', () => {
  it('uploads a file, attaches it to a message, and downloads it as the other member', async () => {
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const conversation = await alice.api.conversations.create.mutate({
      title: '',
      member_ids: [bob.userId!],
    });
    const bytes = new TextEncoder().encode('minutes of the meeting');
    const streamed = new Blob([bytes]).stream();
    const uploaded = await alice.uploadFile(conversation.id, streamed, 'minutes.txt');
    expect(uploaded).toMatchObject({
      name: 'minutes.txt',
      size: bytes.length,
      conversation_id: conversation.id,
    });
    const sent = await alice.sendMessage(conversation.id, '', { attachmentIds: [uploaded.id] });
    expect(sent.attachments).toEqual([expect.objectContaining({ id: uploaded.id, url: uploaded.url })]);

    const page = await bob.api.messages.list.query({ conversation_id: conversation.id });
    const [attachment] = page.messages.at(-1)!.attachments;
    const response = await bob.downloadFile(attachment!);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; /);

    const carol = await signUp(server.url, 'carol');
    await expect(carol.downloadFile(attachment!)).rejects.toMatchObject({
      status: 404,
      message: 'File not found',
    });
    await expect(carol.uploadFile(conversation.id, bytes, 'x.txt')).rejects.toMatchObject({ status: 403 });
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  });
});
