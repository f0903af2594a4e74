import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  type Conversation,
  createPneumaticClient,
  type Message,
  type PneumaticClient,
} from '@pneumatic/client';
import { type RunningServer, startServer } from '@pneumatic/test-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const BOT_DIR = join(import.meta.dirname, '..');
const PASSWORD = 'correct horse battery staple';

/** The bot as `start` runs it, with its output kept for the assertions (and for a failure's message). */
class BotProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(env: Record<string, string>) {
    this.child = spawn(
      process.execPath,
      ['--conditions=@pneumatic/source', '--import', 'tsx', 'src/main.ts'],
      {
        cwd: BOT_DIR,
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (Date.now() > deadline || this.child.exitCode !== null) {
        throw new Error(`the bot never logged ${pattern}:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Everything a person's client receives, read in the background from the SDK's event stream. */
class Inbox {
  readonly messages: Message[] = [];
  readonly #started: Promise<void>;

  constructor(client: PneumaticClient) {
    let started!: () => void;
    this.#started = new Promise((resolve) => {
      started = resolve;
    });
    void (async () => {
      for await (const event of client.events({ onStarted: started })) {
        if (event.type === 'message') this.messages.push(event.message);
      }
    })();
  }

  /** Resolves once the stream is live. */
  live(): Promise<void> {
    return this.#started;
  }

  /** The next message from `senderId` in `conversationId` after seq `afterSeq`. */
  async next(
    senderId: string,
    conversationId: string,
    afterSeq: number,
    timeoutMs = 15_000,
  ): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(
        (m) => m.sender_id === senderId && m.conversation_id === conversationId && m.seq > afterSeq,
      );
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no message from ${senderId} after seq ${afterSeq}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('the example bot', () => {
  let server: RunningServer;
  let bot: BotProcess;
  let alice: PneumaticClient;
  let inbox: Inbox;
  let botId: string;
  let direct: Conversation;

  beforeAll(async () => {
    server = await startServer();
    bot = new BotProcess({
      PNEUMATIC_URL: server.url,
      BOT_USERNAME: 'helper-bot',
      BOT_PASSWORD: PASSWORD,
      BOT_FULL_NAME: 'Helper Bot',
    });
    await bot.waitFor(/ INFO +ready /);

    alice = createPneumaticClient({ url: server.url, WebSocket });
    await alice.signup({ username: 'alice', password: PASSWORD, full_name: 'Alice' });
    await alice.login({ username: 'alice', password: PASSWORD });
    inbox = new Inbox(alice);
    await inbox.live();
    botId = (await alice.api.users.list.query({ query: 'helper-bot' })).users.find(
      (user) => user.username === 'helper-bot',
    )!.id;
  });

  afterAll(async () => {
    await alice?.close();
    if (bot && bot.child.exitCode === null) bot.child.kill('SIGKILL');
    await server?.close();
  });

  it('signed itself up, and joins a conversation it is added to with a greeting', async () => {
    expect(bot.output).toMatch(/ INFO +signed up user=helper-bot/);
    direct = await alice.api.conversations.create.mutate({ title: '', member_ids: [botId] });
    const hello = await inbox.next(botId, direct.id, 0);
    expect(hello.content).toBe("Hi, I'm Helper Bot. Try /time, or /echo followed by some text.");
    await bot.waitFor(new RegExp(`joined conversation=${direct.id} kind=direct`));
  });

  it('answers /echo hi with hi, over the SDK’s event stream', async () => {
    const asked = await alice.sendMessage(direct.id, '/echo hi');
    const reply = await inbox.next(botId, direct.id, asked.seq);
    expect(reply.content).toBe('hi');
  });

  it('answers /time in a group it is added to, with the current UTC time', async () => {
    const group = await alice.api.conversations.create.mutate({ title: 'Team', member_ids: [botId] });
    const hello = await inbox.next(botId, group.id, 0);
    const before = Date.now();
    const asked = await alice.sendMessage(group.id, '/time');
    const reply = await inbox.next(botId, group.id, Math.max(asked.seq, hello.seq));
    const match = /^The time is (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\.$/.exec(reply.content);
    expect(match).not.toBeNull();
    const said = Date.parse(`${match![1]!.replace(' ', 'T')}Z`);
    expect(Math.abs(said - before)).toBeLessThan(60_000);
  });

  it('lets people talk without answering, and never answers itself', async () => {
    const talk = await alice.sendMessage(direct.id, 'just chatting');
    const asked = await alice.sendMessage(direct.id, '/echo /echo loop?');
    expect((await inbox.next(botId, direct.id, asked.seq)).content).toBe('/echo loop?');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const fromBot: string[] = [];
    for await (const message of alice.history(direct.id)) {
      if (message.seq > talk.seq && message.sender_id === botId) fromBot.push(message.content);
    }
    expect(fromBot).toEqual(['/echo loop?']);
  });

  it('stops cleanly on SIGTERM, and logs in to its existing account on the next start', async () => {
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.output).toMatch(/ INFO +stopping signal=SIGTERM/);
    expect(bot.output).toMatch(/ INFO +stopped\n/);

    bot = new BotProcess({ PNEUMATIC_URL: server.url, BOT_USERNAME: 'helper-bot', BOT_PASSWORD: PASSWORD });
    await bot.waitFor(/ INFO +ready /);
    expect(bot.output).not.toMatch(/signed up/);
    const asked = await alice.sendMessage(direct.id, '/echo still here');
    expect((await inbox.next(botId, direct.id, asked.seq)).content).toBe('still here');
    bot.child.kill('SIGINT');
    expect(await bot.exited).toBe(0);
  });
});
