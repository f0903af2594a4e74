import { describe, expect, it } from 'vitest';
import {
  addMessage,
  applyQuotesOf,
  applyReactions,
  buildTimeline,
  flattenPages,
  type MessagePages,
  type PendingMessage,
  quotedText,
  replaceMessage,
} from './message-pages.ts';
import type { Message, MessagePage } from './types.ts';

const CONVERSATION = '00000000-0000-4000-8000-0000000000c1';
const ME = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000b1';

function message(seq: number, sender = BOB, messageId = `client-${seq}`): Message {
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    message_id: messageId,
    sender_id: sender,
    conversation_id: CONVERSATION,
    content: `message ${seq}`,
    created_at: new Date(Date.UTC(2026, 10, 27, 12, 0, seq)).toISOString(),
    seq,
    kind: 'user',
    system: null,
    edited_at: null,
    deleted_at: null,
    reply_to: null,
    mentions: [],
    reactions: [],
    attachments: [],
  };
}

function page(seqs: number[], next_cursor: number | null): MessagePage {
  return { messages: seqs.map((s) => message(s)), next_cursor };
}

/** Newest page first, as useInfiniteQuery holds them. */
function pages(...list: MessagePage[]): MessagePages {
  return { pages: list, pageParams: list.map((_, i) => (i === 0 ? null : list[i - 1]!.next_cursor)) };
}

const seqsOf = (data: MessagePages | undefined) => data?.pages.map((p) => p.messages.map((m) => m.seq));

describe('addMessage', () => {
  it('appends a live message to the newest page', () => {
    const data = pages(page([4, 5, 6], 4), page([1, 2, 3], null));
    expect(seqsOf(addMessage(data, message(7)))).toEqual([
      [4, 5, 6, 7],
      [1, 2, 3],
    ]);
  });

  it('adds a message once, however often it arrives (event, replay, send answer)', () => {
    let data: MessagePages | undefined = pages(page([1, 2], null));
    for (let i = 0; i < 3; i++) data = addMessage(data, message(3));
    expect(seqsOf(data)).toEqual([[1, 2, 3]]);
  });

  it('keeps seq order when messages arrive out of order', () => {
    let data: MessagePages | undefined = pages(page([1, 2], null));
    data = addMessage(data, message(5));
    data = addMessage(data, message(3));
    data = addMessage(data, message(4));
    expect(seqsOf(data)).toEqual([[1, 2, 3, 4, 5]]);
  });

  it('puts a message into the older page whose range holds it', () => {
    const data = pages(page([10, 11], 10), page([5, 6, 8], null));
    expect(seqsOf(addMessage(data, message(7)))).toEqual([
      [10, 11],
      [5, 6, 7, 8],
    ]);
  });

  it('leaves a message older than everything loaded to the page that will load it', () => {
    const data = pages(page([10, 11], 10));
    expect(addMessage(data, message(3))).toBe(data);
  });

  it('adds to an empty conversation', () => {
    expect(seqsOf(addMessage(pages(page([], null)), message(1)))).toEqual([[1]]);
  });

  it('leaves history that was never loaded alone', () => {
    expect(addMessage(undefined, message(1))).toBeUndefined();
  });

  it('does not change the pages it was given', () => {
    const data = pages(page([1], null));
    addMessage(data, message(2));
    expect(seqsOf(data)).toEqual([[1]]);
  });
});

describe('flattenPages', () => {
  it('lists loaded messages oldest first', () => {
    const data = pages(page([7, 8], 7), page([4, 5, 6], 4), page([1, 2, 3], null));
    expect(flattenPages(data).map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('shows a message once when a refetched page overlaps an older one', () => {
    const data = pages(page([5, 6, 7], 5), page([3, 4, 5], null));
    expect(flattenPages(data).map((m) => m.seq)).toEqual([3, 4, 5, 6, 7]);
  });
});

describe('replaceMessage', () => {
  const data = pages(page([4, 5, 6], 4), page([1, 2, 3], null));
  const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 13, minute)).toISOString();

  it('puts the edited message in the page that holds it', () => {
    const edited = { ...message(2), content: 'better', edited_at: at(1) };
    const next = replaceMessage(data, edited);
    expect(flattenPages(next).find((m) => m.seq === 2)?.content).toBe('better');
    expect(next?.pages[0]).toBe(data.pages[0]);
  });

  it('keeps a later state: a deletion is final, a late answer to an earlier edit loses', () => {
    const second = replaceMessage(data, { ...message(5), content: 'second', edited_at: at(2) });
    expect(replaceMessage(second, { ...message(5), content: 'first', edited_at: at(1) })).toBe(second);
    const deleted = replaceMessage(second, {
      ...message(5),
      content: '',
      deleted_at: at(3),
      edited_at: at(2),
    });
    expect(flattenPages(deleted).find((m) => m.seq === 5)?.deleted_at).toBe(at(3));
    expect(replaceMessage(deleted, { ...message(5), content: 'again', edited_at: at(4) })).toBe(deleted);
  });

  it('leaves the pages alone when the message is not loaded', () => {
    expect(replaceMessage(data, { ...message(99), edited_at: at(1) })).toBe(data);
  });
});

describe('buildTimeline', () => {
  const pending = (messageId: string, status: PendingMessage['status'] = 'sending'): PendingMessage => ({
    message_id: messageId,
    conversation_id: CONVERSATION,
    content: `pending ${messageId}`,
    created_at: '2026-11-27T12:05:00.000Z',
    status,
  });

  it('shows my pending messages after the confirmed ones, in the order I wrote them', () => {
    const timeline = buildTimeline([message(1), message(2)], [pending('p1'), pending('p2', 'failed')], ME);
    expect(timeline.map((e) => (e.kind === 'message' ? e.message.seq : e.pending.message_id))).toEqual([
      1,
      2,
      'p1',
      'p2',
    ]);
  });

  it('shows a pending message once when the server has confirmed it (dedupe by message_id)', () => {
    const confirmed = [message(1), message(2, ME, 'p1')];
    const timeline = buildTimeline(confirmed, [pending('p1'), pending('p2')], ME);
    expect(timeline.map((e) => e.kind)).toEqual(['message', 'message', 'pending']);
    expect(timeline.filter((e) => e.key === 'mine:p1')).toHaveLength(1);
  });

  it('keeps the key of my message from pending to confirmed, so its bubble stays in place', () => {
    const before = buildTimeline([], [pending('p1')], ME);
    const after = buildTimeline([message(1, ME, 'p1')], [], ME);
    expect(before[0]?.key).toBe(after[0]?.key);
  });

  it('does not hide my pending message because someone else used the same message_id', () => {
    const timeline = buildTimeline([message(1, BOB, 'p1')], [pending('p1')], ME);
    expect(timeline.map((e) => e.kind)).toEqual(['message', 'pending']);
    expect(new Set(timeline.map((e) => e.key)).size).toBe(2);
  });
});

describe('applyReactions and applyQuotesOf', () => {
  it("sets a message's reactions, leaving the data as it was when the message is not loaded", () => {
    const data = pages(page([4, 5], null));
    const reactions = [{ emoji: '👍', count: 1, user_ids: [ME] }];
    const next = applyReactions(data, {
      conversation_id: CONVERSATION,
      message_id: message(5).id,
      reactions,
    });
    expect(flattenPages(next).map((m) => m.reactions)).toEqual([[], reactions]);
    expect(applyReactions(data, { conversation_id: CONVERSATION, message_id: 'gone', reactions })).toBe(data);
  });

  it('keeps the quotes of an edited or deleted message in step', () => {
    const reply: Message = {
      ...message(6),
      reply_to: { id: message(4).id, sender_id: BOB, excerpt: 'message 4', deleted: false },
    };
    const data = pages({ messages: [message(4), reply], next_cursor: null });
    const edited = applyQuotesOf(data, { ...message(4), content: 'changed' });
    expect(flattenPages(edited)[1]!.reply_to).toMatchObject({ excerpt: 'changed', deleted: false });
    const deleted = applyQuotesOf(edited, { ...message(4), content: '', deleted_at: message(5).created_at });
    expect(flattenPages(deleted)[1]!.reply_to).toMatchObject({ excerpt: null, deleted: true });
    expect(applyQuotesOf(data, message(5))).toBe(data);
  });
});

describe('quotedText', () => {
  it('quotes the text, or for a message of files alone their names, as the server does', () => {
    const file = {
      id: message(1).id,
      size: 1,
      type: 'image/png',
      width: 1,
      height: 1,
      url: '/files/x/a.png',
    };
    const files = [
      { ...file, name: 'a.png' },
      { ...file, name: 'b.pdf' },
    ];
    expect(quotedText({ content: 'look', attachments: files })).toBe('look');
    expect(quotedText({ content: '', attachments: files })).toBe('a.png, b.pdf');
  });
});
