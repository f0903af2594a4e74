import { type RunningServer, startServer, TcpProxy } from '@pneumatic/test-server';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { type ConnectionStatus, createPneumaticClient, SessionEndedError } from '../src/index.ts';
import { liveEvents, PASSWORD, signUp, sleep } from './support/people.ts';
import { fakeJwt } from './support/tokens.ts';

// Access tokens live 2 s here, so refreshes and socket expiries (close code 4401) happen within a test.
let server: RunningServer;

beforeAll(async () => {
  server = await startServer({ env: { ACCESS_TOKEN_TTL_SECONDS: '2' } });
});

afterAll(async () => {
  await server?.close();
});

describe('token refresh', () => {
  it('runs one refresh for many calls at once, and follows the rotation', async () => {
    // Tokens that live long enough that no background refresh joins the count on a busy machine
    // (a 2 s token is due for one within a second of its issue).
    const longLived = await startServer();
    onTestFinished(() => longLived.close());
    const setup = await signUp(longLived.url, 'dora');
    const { refresh_token } = setup.session.tokens!;
    const userId = setup.userId!;
    await setup.close();

    const refreshRequests: string[] = [];
    const client = createPneumaticClient({
      url: longLived.url,
      // An access token that has run out, and the login's real refresh token.
      tokens: { access_token: fakeJwt({ sub: userId, iat: 1, exp: 2 }), refresh_token },
      fetch: (input, init) => {
        if (String(input).includes('auth.refresh')) refreshRequests.push(String(input));
        return fetch(input, init);
      },
    });
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.api.auth.me.query()));
    expect(answers.every((me) => me.id === userId)).toBe(true);
    expect(refreshRequests).toHaveLength(1);

    // Each refresh presents the token the previous one returned: a retired one would revoke the login.
    for (let i = 0; i < 3; i++) await client.session.refresh();
    expect(refreshRequests).toHaveLength(4);
    await expect(client.api.auth.me.query()).resolves.toMatchObject({ id: userId });
    await client.close();
  });

  it('keeps the event stream across socket expiries, missing and repeating nothing', async () => {
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(server.url, 'bob');
    const statuses: ConnectionStatus[] = [];
    bob.connection.subscribe(() => statuses.push(bob.connection.get()));
    const firstToken = bob.session.tokens!.access_token;
    const bobEvents = await liveEvents(bob);
    const conversation = await alice.api.conversations.create.mutate({
      title: '',
      member_ids: [bob.userId!],
    });

    // About 5 s of messages: the socket's token expires at least twice meanwhile.
    const sent: number[] = [];
    for (let i = 1; i <= 12; i++) {
      sent.push((await alice.sendMessage(conversation.id, `tick ${i}`)).seq);
      await sleep(400);
    }
    const received = await bobEvents.until(
      (items) => items.filter((e) => e.type === 'message').length >= sent.length,
    );
    await sleep(300);
    const seqs = bobEvents.items.flatMap((e) => (e.type === 'message' ? [e.message.seq] : []));
    expect(seqs).toEqual(sent);
    expect(received.some((e) => e.type === 'resync')).toBe(false);
    expect(statuses).toContain('reconnecting');
    expect(bob.session.tokens!.access_token).not.toBe(firstToken);
    await Promise.all([alice.close(), bob.close()]);
  });

  it('reports a revoked login through onSessionEnded, and events() ends with SessionEndedError', async () => {
    const onSessionEnded = vi.fn();
    const alice = await signUp(server.url, 'alice', { onSessionEnded });
    const events = await liveEvents(alice);
    const retired = alice.session.tokens!.refresh_token;
    await alice.session.refresh();

    // Someone presents the retired refresh token: the server takes it as theft and revokes the login.
    const thief = createPneumaticClient({ url: server.url });
    await expect(thief.api.auth.refresh.mutate({ refresh_token: retired })).rejects.toThrow();
    await thief.close();

    await vi.waitFor(() => expect(onSessionEnded).toHaveBeenCalledTimes(1), { timeout: 10_000 });
    expect(onSessionEnded.mock.calls[0]?.[0]).toBeInstanceOf(SessionEndedError);
    await events.done;
    expect(events.error).toBeInstanceOf(SessionEndedError);
    expect(alice.userId).toBeNull();

    // Logging in again starts a new login; the old one stays revoked.
    await alice.login({ username: alice.username, password: PASSWORD });
    await expect(alice.api.auth.me.query()).resolves.toMatchObject({ username: alice.username });
    await alice.close();
  });
});

describe('reconnect', () => {
  it('resumes the stream after a network outage and delivers a send made during it once', async () => {
    const proxy = new TcpProxy({ host: '127.0.0.1', port: server.port });
    await proxy.start();
    const alice = await signUp(server.url, 'alice');
    const bob = await signUp(proxy.url, 'bob', { sendRetries: 50 });
    const bobEvents = await liveEvents(bob);
    const conversation = await alice.api.conversations.create.mutate({
      title: '',
      member_ids: [bob.userId!],
    });
    await alice.sendMessage(conversation.id, 'before');
    await bobEvents.until((items) => items.some((e) => e.type === 'message'));

    await proxy.cut();
    const duringOutage = bob.sendMessage(conversation.id, 'sent while offline', { messageId: 'offline-1' });
    for (const text of ['one', 'two', 'three']) await alice.sendMessage(conversation.id, text);
    await sleep(1_000);
    expect(bob.connection.get()).not.toBe('online');
    await proxy.restore();

    const stored = await duringOutage;
    expect(stored.message_id).toBe('offline-1');
    const texts = () => bobEvents.items.flatMap((e) => (e.type === 'message' ? [e.message.content] : []));
    await bobEvents.until(() => texts().length >= 5);
    await sleep(300);
    expect(texts()).toEqual(['before', 'one', 'two', 'three', 'sent while offline']);
    expect(bob.connection.get()).toBe('online');
    await Promise.all([alice.close(), bob.close(), proxy.close()]);
  });
});
