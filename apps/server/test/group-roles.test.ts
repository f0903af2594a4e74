import { DIALECTS } from '@pneumatic/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rest, type TestUser } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';
import { sleep } from './helpers/sockets.ts';
import { clientPool, rejection } from './helpers/trpc-calls.ts';

describe.each(DIALECTS)('groups with owners (%s)', (dialect) => {
  let t: TestServer;
  let api: Rest;
  const pool = clientPool(() => t.url);
  const as = (user: TestUser) => pool.as(user);
  const makeAdmin = (owner: TestUser, conversation_id: string, user: TestUser) =>
    as(owner).client.conversations.setRole.mutate({ conversation_id, user_id: user.id, role: 'admin' });
  const people = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => api.user(`p${i}`)));
  beforeAll(async () => {
    t = await startServer(dialect);
    api = new Rest(t.url);
  });
  afterAll(async () => {
    pool.closeAll();
    await t.close();
  });

  it('makes the creator the owner; members see roles; a 1-on-1 has none', async () => {
    const [owner, a, b] = await people(3);
    const group = await as(owner!).client.conversations.create.mutate({
      title: 'g',
      member_ids: [a!.id, b!.id],
    });
    expect(group.roles).toEqual({ [owner!.id]: 'owner' });
    const seen = await as(a!).client.conversations.get.query({ conversation_id: group.id });
    expect(seen.roles).toEqual({ [owner!.id]: 'owner' });
    const listed = await as(b!).client.conversations.list.query();
    expect(listed.find((c) => c.id === group.id)?.roles).toEqual({ [owner!.id]: 'owner' });
    const direct = await as(owner!).client.conversations.create.mutate({ title: 'd', member_ids: [a!.id] });
    expect(direct.roles).toEqual({});
  });

  it('lets only the owner make and unmake admins, with a system line, live', async () => {
    const [owner, a, b] = await people(3);
    const group = await as(owner!).client.conversations.create.mutate({
      title: 'g',
      member_ids: [a!.id, b!.id],
    });
    const bStream = as(b!).stream();
    await bStream.started.count(1);
    const made = await makeAdmin(owner!, group.id, a!);
    expect(made.roles).toEqual({ [owner!.id]: 'owner', [a!.id]: 'admin' });
    await bStream.events.until((items) =>
      items.some((e) => e.data.type === 'conversation' && e.data.conversation?.roles?.[a!.id] === 'admin'),
    );
    // An admin cannot make admins; a member cannot either; the owner cannot change their own role.
    for (const [who, target] of [
      [a!, b!],
      [b!, a!],
    ] as const) {
      expect(
        await rejection(
          as(who).client.conversations.setRole.mutate({
            conversation_id: group.id,
            user_id: target.id,
            role: 'admin',
          }),
        ),
      ).toMatchObject({ code: 'FORBIDDEN' });
    }
    expect(
      await rejection(
        as(owner!).client.conversations.setRole.mutate({
          conversation_id: group.id,
          user_id: owner!.id,
          role: 'member',
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST' });
    const demoted = await as(owner!).client.conversations.setRole.mutate({
      conversation_id: group.id,
      user_id: a!.id,
      role: 'member',
    });
    expect(demoted.roles).toEqual({ [owner!.id]: 'owner' });
    const history = await api.get(`/conversations/${group.id}/messages`, b!.token);
    const lines = history.body.messages.filter((m: { kind: string }) => m.kind === 'system');
    expect(lines.map((m: { system: unknown }) => m.system)).toEqual([
      { action: 'role_changed', user_ids: [a!.id], role: 'admin' },
      { action: 'role_changed', user_ids: [a!.id], role: 'member' },
    ]);
  });

  it('lets owners and admins remove members; the removed person drops the group at once', async () => {
    const [owner, admin, a, b, outsider] = await people(5);
    const group = await as(owner!).client.conversations.create.mutate({
      title: 'g',
      member_ids: [admin!.id, a!.id, b!.id],
    });
    await makeAdmin(owner!, group.id, admin!);
    // Plain members cannot remove; nor can outsiders (the same answers as elsewhere).
    expect(
      await rejection(
        as(a!).client.conversations.removeMember.mutate({ conversation_id: group.id, user_id: b!.id }),
      ),
    ).toMatchObject({ code: 'FORBIDDEN', message: 'Only the owner and admins can remove members' });
    expect(
      await rejection(
        as(outsider!).client.conversations.removeMember.mutate({ conversation_id: group.id, user_id: b!.id }),
      ),
    ).toMatchObject({ code: 'FORBIDDEN', message: 'Not a member of this conversation' });
    expect(
      await rejection(
        as(outsider!).client.conversations.removeMember.mutate({
          conversation_id: '00000000-0000-4000-8000-000000000000',
          user_id: b!.id,
        }),
      ),
    ).toMatchObject({ code: 'NOT_FOUND' });
    // An admin cannot remove the owner.
    expect(
      await rejection(
        as(admin!).client.conversations.removeMember.mutate({
          conversation_id: group.id,
          user_id: owner!.id,
        }),
      ),
    ).toMatchObject({ code: 'FORBIDDEN', message: 'The owner cannot be removed' });
    expect(
      await rejection(
        as(admin!).client.conversations.removeMember.mutate({
          conversation_id: group.id,
          user_id: outsider!.id,
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST' });

    const bStream = as(b!).stream();
    await bStream.started.count(1);
    const after = await as(admin!).client.conversations.removeMember.mutate({
      conversation_id: group.id,
      user_id: b!.id,
    });
    expect(after.members).not.toContain(b!.id);
    const told = await bStream.events.until((items) => items.some((e) => e.data.type === 'conversation'));
    const event = told.find((e) => e.data.type === 'conversation')!.data;
    expect(event.conversation?.members).not.toContain(b!.id);

    await api.send(owner!.token, owner!.id, group.id, 'after b was removed');
    expect((await api.get(`/conversations/${group.id}/messages`, b!.token)).status).toBe(403);
    expect((await api.send(b!.token, b!.id, group.id, 'let me back')).status).toBe(403);
    await sleep(200);
    expect(
      bStream.events.items.filter((e) => e.data.message?.content === 'after b was removed'),
    ).toHaveLength(0);
    const history = await api.get(`/conversations/${group.id}/messages`, owner!.token);
    const removed = history.body.messages.find(
      (m: { system?: { action: string } }) => m.system?.action === 'removed',
    );
    expect(removed.system.user_ids).toEqual([b!.id]);
    expect(removed.sender_id).toBe(admin!.id);

    // The owner removes an admin; an admin could not.
    await makeAdmin(owner!, group.id, a!);
    expect(
      await rejection(
        as(admin!).client.conversations.removeMember.mutate({ conversation_id: group.id, user_id: a!.id }),
      ),
    ).toMatchObject({ code: 'FORBIDDEN', message: 'Only the owner can remove an admin' });
    const final = await as(owner!).client.conversations.removeMember.mutate({
      conversation_id: group.id,
      user_id: a!.id,
    });
    expect(final.members.sort()).toEqual([owner!.id, admin!.id].sort());
  });

  it('hands a leaving owner’s group to the longest-standing admin, else the longest-standing member', async () => {
    const [owner, first, second, third] = await people(4);
    const group = await as(owner!).client.conversations.create.mutate({
      title: 'g',
      member_ids: [first!.id, second!.id],
    });
    await as(owner!).client.conversations.addMembers.mutate({
      conversation_id: group.id,
      user_ids: [third!.id],
    });
    await makeAdmin(owner!, group.id, third!);
    await as(owner!).client.conversations.leave.mutate({ conversation_id: group.id });
    let seen = await as(first!).client.conversations.get.query({ conversation_id: group.id });
    expect(seen.roles).toEqual({ [third!.id]: 'owner' });
    const history = await api.get(`/conversations/${group.id}/messages`, first!.token);
    expect(history.body.messages.at(-1).system).toEqual({
      action: 'left',
      user_ids: [owner!.id],
      owner_id: third!.id,
    });
    // No admin left: the longest-standing member (first and second joined together: by id).
    await as(third!).client.conversations.leave.mutate({ conversation_id: group.id });
    seen = await as(first!).client.conversations.get.query({ conversation_id: group.id });
    expect(seen.roles).toEqual({ [[first!.id, second!.id].sort()[0]!]: 'owner' });
  });

  it('keeps renaming open to every member (documented choice)', async () => {
    const [owner, a, b] = await people(3);
    const group = await as(owner!).client.conversations.create.mutate({
      title: 'g',
      member_ids: [a!.id, b!.id],
    });
    const renamed = await as(a!).client.conversations.rename.mutate({
      conversation_id: group.id,
      title: 'new',
    });
    expect(renamed.title).toBe('new');
  });
});
