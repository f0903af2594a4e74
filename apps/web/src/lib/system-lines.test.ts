import { describe, expect, it } from 'vitest';
import { describeSystemLine } from './system-lines.ts';
import type { Message } from './types.ts';

const ME = 'me';
const users = new Map([
  ['alice', { username: 'alice', full_name: 'Alice Liddell' }],
  ['bob', { username: 'bob', full_name: null }],
  ['carol', { username: 'carol', full_name: 'Carol Danvers' }],
]);

function line(sender: string, system: Message['system'], content = 'stored text'): Message {
  return {
    id: 'm1',
    message_id: 'system:1',
    sender_id: sender,
    conversation_id: 'c1',
    content,
    created_at: '2026-11-27T12:00:00.000Z',
    seq: 1,
    kind: 'system',
    system,
    edited_at: null,
    deleted_at: null,
    reply_to: null,
    mentions: [],
    reactions: [],
    attachments: [],
  };
}

describe('describeSystemLine', () => {
  it('says who added whom, with "you" for me', () => {
    expect(describeSystemLine(line('alice', { action: 'added', user_ids: ['bob'] }), ME, users)).toBe(
      'Alice Liddell added bob',
    );
    expect(describeSystemLine(line(ME, { action: 'added', user_ids: ['bob', 'carol'] }), ME, users)).toBe(
      'You added bob and Carol Danvers',
    );
    expect(describeSystemLine(line('alice', { action: 'added', user_ids: [ME] }), ME, users)).toBe(
      'Alice Liddell added you',
    );
  });

  it('says who left and what a group was renamed to', () => {
    expect(describeSystemLine(line('carol', { action: 'left', user_ids: ['carol'] }), ME, users)).toBe(
      'Carol Danvers left',
    );
    expect(describeSystemLine(line(ME, { action: 'renamed', title: 'Hiking crew' }), ME, users)).toBe(
      'You renamed the group to “Hiking crew”',
    );
  });

  it('says who removed whom, who made whom an admin, and who owns the group after its owner left', () => {
    expect(describeSystemLine(line('alice', { action: 'removed', user_ids: [ME] }), ME, users)).toBe(
      'Alice Liddell removed you',
    );
    expect(
      describeSystemLine(line(ME, { action: 'role_changed', user_ids: ['bob'], role: 'admin' }), ME, users),
    ).toBe('You made bob an admin');
    expect(
      describeSystemLine(
        line('alice', { action: 'role_changed', user_ids: ['bob'], role: 'member' }),
        ME,
        users,
      ),
    ).toBe('Alice Liddell made bob a member');
    expect(
      describeSystemLine(line('alice', { action: 'left', user_ids: ['alice'], owner_id: ME }), ME, users),
    ).toBe('Alice Liddell left; you now own the group');
    expect(
      describeSystemLine(
        line('alice', { action: 'left', user_ids: ['alice'], owner_id: 'carol' }),
        ME,
        users,
      ),
    ).toBe('Alice Liddell left; Carol Danvers now owns the group');
  });

  it('falls back to the stored text', () => {
    expect(describeSystemLine(line('alice', null, 'Alice did something'), ME, users)).toBe(
      'Alice did something',
    );
    const stranger = line('zed', { action: 'added', user_ids: ['bob'] }, 'Zed added bob');
    expect(describeSystemLine(stranger, ME, users)).toBe('Zed added bob');
  });
});
