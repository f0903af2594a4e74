#!/usr/bin/env node
import { createDatabase, dropEverything, migrateToLatest } from '@pneumatic/db';
import { buildServer, VERSION } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startTracing } from './tracing.ts';

const USAGE = `Usage: pneumatic <command>

Commands:
  serve      Start the server (default): HTTP, tRPC, WebSocket, the web app
  migrate    Bring the database schema up to date, then exit
  reset-db   Drop every table and migrate again (refused when NODE_ENV=production)

Configuration comes from the environment; see the README.`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'serve';
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  const logger = createLogger(config.logLevel, {
    pretty: config.env === 'development' && process.stdout.isTTY,
  });

  if (command === 'migrate' || command === 'reset-db') {
    if (command === 'reset-db' && config.env === 'production') {
      process.stderr.write('reset-db refuses to run when NODE_ENV=production\n');
      return 1;
    }
    const database = createDatabase(config.databaseUrl);
    try {
      if (command === 'reset-db') await dropEverything(database);
      const { applied } = await migrateToLatest(database.db);
      logger.info({ event: command, applied, database: database.location }, `${command} done`);
    } finally {
      await database.close();
    }
    return 0;
  }
  if (command !== 'serve') {
    process.stderr.write(`Unknown command: ${command}\n\n${USAGE}\n`);
    return 2;
  }

  const tracing = config.otlpEndpoint
    ? startTracing({ endpoint: config.otlpEndpoint, version: VERSION })
    : undefined;
  const server = await buildServer(config, logger);
  const address = await server.app.listen({ port: config.port, host: config.host });
  logger.info(
    { event: 'start', address, database: server.database.dialect },
    `Pneumatic listening on ${address}`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'shutdown', signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await server.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(
        `pneumatic: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  },
);
