import { createDatabase, dropEverything, migrateToLatest } from '@pneumatic/db';
import type { Config } from '../config.ts';
import type { Command } from './command.ts';

export function databaseCommands(config: () => Config): Command[] {
  async function migrate(reset: boolean): Promise<number> {
    const cfg = config();
    if (reset && cfg.NODE_ENV === 'production') {
      process.stderr.write('reset-db refuses to run when NODE_ENV=production\n');
      return 1;
    }
    const database = createDatabase(cfg.DATABASE_URL);
    try {
      if (reset) await dropEverything(database);
      const { applied } = await migrateToLatest(database.db);
      process.stdout.write(
        `${reset ? 'Reset and migrated' : 'Migrated'} ${database.location}: ${applied.length ? applied.join(', ') : 'already up to date'}\n`,
      );
    } finally {
      await database.close();
    }
    return 0;
  }
  return [
    {
      name: 'migrate',
      summary: 'Bring the database schema up to date, then exit',
      help: 'Usage: pneumatic migrate\n\nApplies every pending migration to DATABASE_URL (the server also does this at start-up).',
      run: () => migrate(false),
    },
    {
      name: 'reset-db',
      summary: 'Drop every table and migrate again (development only)',
      help: 'Usage: pneumatic reset-db\n\nDeletes ALL data in DATABASE_URL and recreates the schema. Refused when NODE_ENV=production.',
      run: () => migrate(true),
    },
  ];
}
