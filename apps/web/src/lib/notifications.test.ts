import { describe, expect, it } from 'vitest';
import {
  EXCERPT_LENGTH,
  excerpt,
  type NotifyContext,
  notificationContent,
  notificationState,
  notificationTag,
  shouldNotify,
} from './notifications.ts';

const ME = '00000000-0000-4000-8000-0000000000a1';
const BOB = '00000000-0000-4000-8000-0000000000b1';
const ROOM = '00000000-0000-4000-8000-0000000000c1';
const OTHER_ROOM = '00000000-0000-4000-8000-0000000000c2';

const message = {
  conversation_id: ROOM,
  sender_id: BOB,
  seq: 5,
  kind: 'user' as const,
  deleted_at: null,
};

/** Everything that calls for a notification: on, from Bob, another conversation open. */
const context: NotifyContext = {
  myId: ME,
  state: 'on',
  conversation: { muted: false, last_read_seq: 4 },
  openConversationId: OTHER_ROOM,
  pageInView: true,
};

describe('notificationState', () => {
  it('tells apart never asked, denied, allowed and on or off here, and no API', () => {
    expect(notificationState(undefined, true)).toBe('unsupported');
    expect(notificationState('default', true)).toBe('ask');
    expect(notificationState('default', false)).toBe('ask');
    expect(notificationState('denied', true)).toBe('denied');
    expect(notificationState('granted', true)).toBe('on');
    expect(notificationState('granted', false)).toBe('off');
  });
});

describe('shouldNotify', () => {
  it('notifies of a message in a conversation that is not open', () => {
    expect(shouldNotify(message, context)).toBe(true);
    expect(shouldNotify(message, { ...context, openConversationId: null })).toBe(true);
  });

  it('notifies of a message in the open conversation only while the page is out of view', () => {
    const open = { ...context, openConversationId: ROOM };
    expect(shouldNotify(message, open)).toBe(false);
    expect(shouldNotify(message, { ...open, pageInView: false })).toBe(true);
  });

  it('never notifies of my own messages, from whichever device', () => {
    expect(shouldNotify({ ...message, sender_id: ME }, { ...context, pageInView: false })).toBe(false);
  });

  it('never notifies of a muted conversation', () => {
    const muted = { ...context, conversation: { muted: true, last_read_seq: 0 }, pageInView: false };
    expect(shouldNotify(message, muted)).toBe(false);
  });

  it('never notifies of system lines or a message already gone', () => {
    expect(shouldNotify({ ...message, kind: 'system' }, context)).toBe(false);
    expect(shouldNotify({ ...message, deleted_at: '2026-12-06T10:00:00.000Z' }, context)).toBe(false);
  });

  it('skips what I already read on another device', () => {
    expect(shouldNotify(message, { ...context, conversation: { muted: false, last_read_seq: 5 } })).toBe(
      false,
    );
  });

  it('notifies of a conversation the list does not have yet (new, so not muted)', () => {
    expect(shouldNotify(message, { ...context, conversation: undefined })).toBe(true);
  });

  it('notifies only when notifications are on', () => {
    for (const state of ['ask', 'off', 'denied', 'unsupported'] as const) {
      expect(shouldNotify(message, { ...context, state })).toBe(false);
    }
  });
});

describe('excerpt', () => {
  it('keeps a short text whole, on one line', () => {
    expect(excerpt('hello')).toBe('hello');
    expect(excerpt('  two\n\nlines\there  ')).toBe('two lines here');
  });

  it('cuts a long text at a word, with an ellipsis, within the length', () => {
    const long = 'word '.repeat(60);
    const cut = excerpt(long);
    expect([...cut].length).toBeLessThanOrEqual(EXCERPT_LENGTH);
    expect(cut).toMatch(/^(word )+word…$/);
  });

  it('cuts a text without spaces anywhere, never inside an emoji', () => {
    const cut = excerpt('😀'.repeat(200), 10);
    expect(cut).toBe(`${'😀'.repeat(9)}…`);
    expect(cut.isWellFormed()).toBe(true);
  });

  it('passes markup on as the text it is', () => {
    expect(excerpt('<b>bold</b> &amp;')).toBe('<b>bold</b> &amp;');
  });
});

describe('notificationContent', () => {
  it("names the sender, and the group they wrote in, with an excerpt and the conversation's tag", () => {
    expect(notificationContent({ conversation_id: ROOM, content: 'hi\nthere' }, 'Bob Builder', null)).toEqual(
      {
        title: 'Bob Builder',
        body: 'hi there',
        tag: notificationTag(ROOM),
      },
    );
    expect(notificationContent({ conversation_id: ROOM, content: 'hi' }, 'Bob Builder', 'Hiking').title).toBe(
      'Bob Builder in Hiking',
    );
  });

  it('gives every conversation its own tag, so a burst in one collapses and others stay', () => {
    expect(notificationTag(ROOM)).toBe(notificationTag(ROOM));
    expect(notificationTag(ROOM)).not.toBe(notificationTag(OTHER_ROOM));
  });
});
