import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline/promises';
import {
  type ApiDeps,
  anonymous,
  authenticate,
  createCaller,
  createContextFactory,
  requestIdentity,
} from '@pneumatic/api';
import { usersRepository } from '@pneumatic/db';
import { withApiDeps } from '../api-deps.ts';
import type { Config } from '../config.ts';
import { type Command, UsageError } from './command.ts';

async function readPasswordFromStdin(): Promise<string> {
  const lines = createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new UsageError('no password on standard input');
}

/** Calls procedures in-process, as a given user or anonymously. */
function callerFor(deps: ApiDeps) {
  const createContext = createContextFactory(deps);
  return createCaller(createContext(anonymous, { ip: 'cli' }));
}

const DEMO_PASSWORD = 'pneumatic-demo';
const DEMO_USERS = [
  { username: 'alice', full_name: 'Alice Liddell' },
  { username: 'bob', full_name: 'Bob Builder' },
  { username: 'carol', full_name: 'Carol Danvers' },
];

export function userCommands(config: () => Config): Command[] {
  return [
    {
      name: 'create-user',
      summary: 'Create an account',
      help: `Usage: pneumatic create-user --username NAME [--full-name TEXT] (--password-stdin | --password PASS)

Creates an account with the same rules as sign-up (username 3–32 of A-Z a-z 0-9 _ . -,
password at least PASSWORD_MIN_LENGTH). Prefer --password-stdin: a password on the
command line is visible to other users of the machine.`,
      options: {
        username: { type: 'string' },
        'full-name': { type: 'string' },
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
      },
      async run(values) {
        const username = values.username;
        if (typeof username !== 'string') throw new UsageError('--username is required');
        const password =
          values['password-stdin'] === true
            ? await readPasswordFromStdin()
            : typeof values.password === 'string'
              ? values.password
              : undefined;
        if (password === undefined) throw new UsageError('give --password-stdin or --password');
        const fullName = typeof values['full-name'] === 'string' ? values['full-name'] : undefined;
        // An operator creates accounts even when sign-up is closed (ALLOW_SIGNUP=false).
        return withApiDeps({ ...config(), ALLOW_SIGNUP: true }, async (deps) => {
          const user = await callerFor(deps).auth.signup({ username, password, full_name: fullName });
          process.stdout.write(`Created ${user.username} (${user.id})\n`);
          return 0;
        });
      },
    },
    {
      name: 'seed',
      summary: 'Add demo users and conversations (development)',
      help: `Usage: pneumatic seed

Adds the users alice, bob and carol (password "${DEMO_PASSWORD}"), a 1-on-1 between
alice and bob and a group of all three, with a few messages. Users that exist are kept.`,
      async run() {
        const cfg = config();
        if (cfg.NODE_ENV === 'production') {
          process.stderr.write('seed refuses to run when NODE_ENV=production\n');
          return 1;
        }
        return withApiDeps({ ...cfg, ALLOW_SIGNUP: true }, async (deps) => {
          const anonymous = callerFor(deps);
          const ids: string[] = [];
          for (const demo of DEMO_USERS) {
            const existing = await usersRepository.findUserForLogin(deps.database.db, demo.username);
            ids.push(existing?.id ?? (await anonymous.auth.signup({ ...demo, password: DEMO_PASSWORD })).id);
          }
          const as = async (username: string) => {
            const tokens = await anonymous.auth.login({ username, password: DEMO_PASSWORD });
            const identity = requestIdentity(() => authenticate(deps, tokens.access_token));
            return createCaller(createContextFactory(deps)(identity, { ip: 'cli' }));
          };
          const [alice, bob, carol] = await Promise.all(DEMO_USERS.map((u) => as(u.username)));
          const direct = await alice!.conversations.create({ title: 'alice & bob', member_ids: [ids[1]!] });
          const group = await alice!.conversations.create({
            title: 'Weekend plans',
            member_ids: [ids[1]!, ids[2]!],
          });
          const script: [typeof alice, string, string][] = [
            [alice, direct.id, 'Hi Bob! Welcome to Pneumatic.'],
            [bob, direct.id, 'Thanks Alice, this is fast.'],
            [alice, group.id, 'Hiking on Saturday?'],
            [bob, group.id, 'Count me in'],
            [carol, group.id, 'Me too! Early start?'],
          ];
          for (const [caller, conversation_id, content] of script) {
            await caller!.messages.send({ conversation_id, content, message_id: randomUUID() });
          }
          process.stdout.write(
            `Seeded ${DEMO_USERS.map((u) => u.username).join(', ')} (password "${DEMO_PASSWORD}") and 2 conversations\n`,
          );
          return 0;
        });
      },
    },
  ];
}
