/**
 * The name of every kind of event, spelled the same everywhere: the bus's
 * `kind`, the `events` table's `kind` and the client stream's `type`. It
 * lives here because this package is the one the bus, the log and the
 * stream all see; declare event types through it, never with a fresh string.
 *
 * `message_updated`: a message was edited or deleted (its row says which,
 * by edited_at and deleted_at). `conversation`: a conversation was created,
 * or its members, title or anything else changed. `mute`: a member muted or
 * unmuted a conversation; it goes to that member's own devices only.
 * `reaction`: a message's reactions changed (the new set of them).
 * `user`: a user's public details (display name) changed; it goes to their
 * contacts and their own devices.
 */
export const EVENT_KINDS = [
  'message',
  'message_updated',
  'conversation',
  'read',
  'typing',
  'presence',
  'mute',
  'reaction',
  'user',
  'session_revoked',
] as const;

export type EventKind = (typeof EVENT_KINDS)[number];

/** `T`, checked to declare only kinds of the vocabulary: `OfEventKinds<{ kind: 'message'; … } | …>`. */
export type OfEventKinds<T extends { kind: EventKind }> = T;
