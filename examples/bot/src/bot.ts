import {
  type Conversation,
  errorCode,
  isNetworkFailure,
  isUnauthorized,
  type Message,
  type PneumaticClient,
  reconnectDelay,
  SessionEndedError,
} from '@pneumatic/client';
import { answer, greeting } from './commands.ts';
import type { Logger } from './log.ts';

export interface BotOptions {
  client: PneumaticClient;
  username: string;
  password: string;
  fullName: string;
  log: Logger;
  /** Stops the bot: the event loop ends and `run` resolves. */
  signal: AbortSignal;
  /** Called once the bot listens, so nothing said after it is missed. */
  onReady?: () => void;
}

/**
 * Logs in (signing up the first time), then answers commands in every
 * conversation it is in, for as long as `signal` allows. It reads the event
 * stream from the last event it saw whenever it has to start it again (a
 * new login after the old one ended), so no command is missed.
 */
export async function runBot(options: BotOptions): Promise<void> {
  const { client, log, signal } = options;
  const joined = new Set<string>();
  let lastEventId: string | null = null;
  let ready = false;

  while (!signal.aborted) {
    if (!(await logInPatiently(options))) return;
    // Conversations it was added to while it was away: known, and not greeted again.
    for (const conversation of await client.api.conversations.list.query()) joined.add(conversation.id);
    log.info('logged in', { user: options.username, id: client.userId, conversations: joined.size });

    try {
      const events = client.events({
        lastEventId,
        signal,
        onStarted: () => {
          log.info(ready ? 'stream resumed' : 'ready', {
            user: options.username,
            after: lastEventId ?? undefined,
          });
          if (!ready) options.onReady?.();
          ready = true;
        },
      });
      for await (const event of events) {
        lastEventId = event.eventId;
        if (event.type === 'conversation') await join(options, joined, event.conversation);
        else if (event.type === 'message') await reply(options, event.message);
        else if (event.type === 'resync') log.warn('missed too many events to replay; carrying on');
      }
    } catch (error) {
      if (!(error instanceof SessionEndedError)) throw error;
      log.warn('login ended; logging in again', { reason: error.message });
    }
  }
}

/** Logs in, waiting out a server that cannot be reached; false when stopped meanwhile. */
async function logInPatiently(options: BotOptions): Promise<boolean> {
  for (let attempt = 0; !options.signal.aborted; attempt++) {
    try {
      await logIn(options);
      return true;
    } catch (error) {
      if (!isNetworkFailure(error)) throw error;
      const wait = reconnectDelay(attempt);
      options.log.warn('server unreachable; trying again', { in_ms: wait });
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  return false;
}

async function logIn({ client, username, password, fullName, log }: BotOptions): Promise<void> {
  try {
    await client.login({ username, password });
  } catch (error) {
    if (!isUnauthorized(error)) throw error;
    // No such account yet (or a wrong password, which sign-up reports as a taken name).
    await client.signup({ username, password, full_name: fullName });
    log.info('signed up', { user: username });
    await client.login({ username, password });
  }
}

async function join(options: BotOptions, joined: Set<string>, conversation: Conversation): Promise<void> {
  if (joined.has(conversation.id)) return;
  joined.add(conversation.id);
  options.log.info('joined', {
    conversation: conversation.id,
    kind: conversation.kind,
    members: conversation.members.length,
  });
  await send(options, conversation.id, greeting(options.fullName), 'greeting');
}

async function reply(options: BotOptions, message: Message): Promise<void> {
  if (message.sender_id === options.client.userId || message.kind === 'system') return;
  const text = answer(message.content);
  if (text === null) return;
  const command = /^\/(\w+)/.exec(message.content.trim())?.[1]?.toLowerCase();
  await send(options, message.conversation_id, text, command ?? 'command');
}

/** Sends, and logs instead of throwing when the server refuses: one bad conversation must not stop the bot. */
async function send(options: BotOptions, conversationId: string, text: string, what: string): Promise<void> {
  try {
    const sent = await options.client.sendMessage(conversationId, text);
    options.log.info('replied', { to: what, conversation: conversationId, seq: sent.seq });
  } catch (error) {
    if (options.signal.aborted) return;
    options.log.error('reply failed', {
      to: what,
      conversation: conversationId,
      code: errorCode(error) ?? 'network',
    });
  }
}
