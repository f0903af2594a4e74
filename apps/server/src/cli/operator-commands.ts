import { existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import {
  type ApiDeps,
  deleteUserAccount,
  disableUser,
  enableUser,
  exportConversation,
  pruneExpired,
  revokeAllSessions,
} from '@pneumatic/api';
import { parseDatabaseUrl, usersRepository } from '@pneumatic/db';
import Database from 'better-sqlite3';
import { withApiDeps } from '../api-deps.ts';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { type Command, UsageError } from './command.ts';

/** Who ran an admin command, as its log line names them: `cli:<OS user>`. */
function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli:unknown';
  }
}

/**
 * Logs an admin action (who, what, target; pino adds when) on stderr, as
 * JSON like the server's log; stdout stays the command's own answer.
 * Never a password or token: targets are usernames and ids.
 */
function logAction(config: Config, action: string, target: Record<string, unknown>): void {
  createLogger(config.LOG_LEVEL, { destination: process.stderr }).info(
    { event: 'admin action', actor: operator(), action, target },
    `admin action: ${action}`,
  );
}

interface UserCommand {
  name: string;
  summary: string;
  help: string;
  /** What it did, as printed before the username on success (`Disabled alice`). */
  done: string;
  /** Does it; a string it returns is printed instead of `done` and the username. */
  act(deps: ApiDeps, user: { id: string; username: string }): Promise<unknown>;
}

/** A command on one account, named by username; its changes reach running servers (see `announce`). */
function userCommand(config: () => Config, spec: UserCommand): Command {
  return {
    name: spec.name,
    summary: spec.summary,
    help: `Usage: pneumatic ${spec.name} <username>\n\n${spec.help}`,
    positionals: ['username'],
    async run(_values, [username]) {
      const cfg = config();
      return withApiDeps(
        cfg,
        async (deps) => {
          const user = await usersRepository.findUserForLogin(deps.database.db, username!.toLowerCase());
          if (!user || user.deleted_at !== null) {
            process.stderr.write(`No user named ${username}\n`);
            return 1;
          }
          const said = await spec.act(deps, user);
          logAction(cfg, spec.name, { userId: user.id, username: user.username });
          process.stdout.write(`${typeof said === 'string' ? said : `${spec.done} ${user.username}`}\n`);
          return 0;
        },
        { announce: true },
      );
    },
  };
}

const REACH = `With REDIS_URL set, every running instance closes the user's sockets at once;
without it, the server closes them at its next session check (SOCKET_SESSION_CHECK_MS).
Their tokens are refused at once either way.`;

export function operatorCommands(config: () => Config): Command[] {
  return [
    userCommand(config, {
      name: 'disable-user',
      summary: 'Lock an account out: no login, every login revoked',
      help: `Disables the account: it cannot log in, its access tokens are refused even before
they expire, and every login is revoked. ${REACH}`,
      done: 'Disabled',
      act: (deps, user) => disableUser(deps, user.id),
    }),
    userCommand(config, {
      name: 'enable-user',
      summary: 'Let a disabled account log in again',
      help: 'Enables a disabled account: it may log in again (its old logins stay revoked).',
      done: 'Enabled',
      act: (deps, user) => enableUser(deps, user.id),
    }),
    userCommand(config, {
      name: 'revoke-sessions',
      summary: 'Log an account out everywhere (it may log in again)',
      help: `Revokes every login of the account; it may log in again. ${REACH}`,
      done: 'Revoked the sessions of',
      async act(deps, user) {
        const revoked = await revokeAllSessions(deps, user.id);
        return `Revoked ${revoked.length} session${revoked.length === 1 ? '' : 's'} of ${user.username}`;
      },
    }),
    userCommand(config, {
      name: 'delete-user',
      summary: 'Delete an account; its messages stay',
      help: `Deletes the account: every login revoked, it leaves its groups (an owner hands each
group on), then its name and password are removed and the username is free again.
Its messages and 1-on-1s stay, shown as from "Deleted user". ${REACH}`,
      done: 'Deleted',
      act: (deps, user) => deleteUserAccount(deps, user.id),
    }),
    {
      name: 'backup',
      summary: 'Copy the SQLite database to a file, while the server runs',
      help: `Usage: pneumatic backup <file>

Copies the SQLite database (DATABASE_URL) to <file> with SQLite's online backup
API: safe while servers are running; the copy is consistent as of one moment.
Start a server on the copy (DATABASE_URL=<file>) to restore. Refuses to overwrite.

For PostgreSQL use pg_dump, e.g.
  pg_dump --format=custom --file=pneumatic.dump "$DATABASE_URL"
and restore with pg_restore --dbname=<new database> pneumatic.dump.`,
      positionals: ['file'],
      async run(_values, [file]) {
        const cfg = config();
        const { dialect, target } = parseDatabaseUrl(cfg.DATABASE_URL);
        if (dialect === 'postgres') {
          process.stderr.write(
            'backup copies SQLite databases; for PostgreSQL use pg_dump:\n' +
              '  pg_dump --format=custom --file=pneumatic.dump "$DATABASE_URL"\n' +
              'and restore with pg_restore --dbname=<new database> pneumatic.dump\n',
          );
          return 1;
        }
        if (existsSync(file!)) throw new UsageError(`${file} exists; give a new file`);
        if (!existsSync(target)) {
          process.stderr.write(`No SQLite database at ${target}\n`);
          return 1;
        }
        const source = new Database(target, { fileMustExist: true });
        try {
          source.pragma('busy_timeout = 5000');
          const { totalPages } = await source.backup(file!);
          logAction(cfg, 'backup', { file });
          process.stdout.write(`Backed up ${totalPages} pages to ${file}\n`);
        } finally {
          source.close();
        }
        return 0;
      },
    },
    {
      name: 'export-conversation',
      summary: 'Write a conversation, its members and messages as JSON',
      help: `Usage: pneumatic export-conversation <conversation id> [--output FILE]

Writes {exported_at, conversation, members, messages} as JSON to stdout, or to FILE.
Messages come oldest first, deleted ones with empty content.`,
      positionals: ['conversation id'],
      options: { output: { type: 'string' } },
      async run(values, [conversationId]) {
        const cfg = config();
        return withApiDeps(cfg, async (deps) => {
          const exported = await exportConversation(deps, conversationId!);
          if (!exported) {
            process.stderr.write(`No conversation ${conversationId}\n`);
            return 1;
          }
          const json = `${JSON.stringify(exported, null, 2)}\n`;
          if (typeof values.output === 'string') writeFileSync(values.output, json, { mode: 0o600 });
          else process.stdout.write(json);
          logAction(cfg, 'export-conversation', {
            conversationId,
            messages: exported.messages.length,
            ...(typeof values.output === 'string' ? { file: values.output } : {}),
          });
          return 0;
        });
      },
    },
    {
      name: 'prune',
      summary: 'Delete expired logins and events older than the replay window',
      help: `Usage: pneumatic prune

Deletes expired and revoked logins (refresh token families) and the events (edits,
membership changes) more than REPLAY_LIMIT positions behind the newest; a client
resuming from before that point is told to resync. Messages stay. A serving
instance does the same every PRUNE_INTERVAL_MS (default hourly).`,
      async run() {
        const cfg = config();
        return withApiDeps(cfg, async (deps) => {
          const report = await pruneExpired(deps);
          logAction(cfg, 'prune', { ...report });
          process.stdout.write(`Pruned ${report.sessions} sessions and ${report.events} events\n`);
          return 0;
        });
      },
    },
  ];
}
