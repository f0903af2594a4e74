/**
 * A fresh `message_id` for `messages.send`: a random UUID. The server keeps
 * one message per sender and message_id, so a send retried with the same id
 * is stored once. Falls back to getRandomValues where randomUUID is missing
 * (pages served over plain HTTP from a non-local address).
 */
export declare function newMessageId(): string;
