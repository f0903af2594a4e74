import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dialect } from '@pneumatic/db';
import { createTestDatabase, type TestDatabase } from '@pneumatic/db/testing';
import type { Logger } from 'pino';
import { buildServer, type Server } from '../../src/app.ts';
import { type Config, loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';

export interface TestServer {
  url: string;
  wsUrl: string;
  server: Server;
  config: Config;
  database: TestDatabase;
  close(): Promise<void>;
}

export const TEST_SECRET = 'test-secret-key-that-is-long-enough-0123456789';

/** A real server on port 0 over a fresh database of the given dialect. */
export async function startServer(
  dialect: Dialect,
  overrides: Partial<Config> = {},
  options: { logger?: Logger; database?: TestDatabase; tracing?: boolean } = {},
): Promise<TestServer> {
  const database = options.database ?? (await createTestDatabase(dialect));
  const ownsDatabase = options.database === undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'pneumatic-data-'));
  const config: Config = {
    ...loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, SECRET_KEY: TEST_SECRET }),
    DATABASE_URL: database.url,
    PORT: 0,
    HOST: '127.0.0.1',
    // Tests that are about rate limits set their own.
    RATE_LIMIT_PER_MINUTE: 1_000_000,
    RATE_LIMIT_PER_HOUR: 1_000_000_000,
    // As a real deployment of each dialect has it (the default is read from DATABASE_URL).
    FILE_STORAGE: dialect === 'postgres' ? 'database' : 'disk',
    ...overrides,
  };
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const server = await buildServer(config, logger, { tracing: options.tracing });
  const address = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    wsUrl: address.replace(/^http/, 'ws'),
    server,
    config,
    database,
    async close() {
      await server.close();
      if (ownsDatabase) await database.drop();
    },
  };
}
