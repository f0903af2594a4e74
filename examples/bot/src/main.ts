// The bot as a program: reads its settings, runs until SIGINT or SIGTERM.
import { createPneumaticClient } from '@pneumatic/client';
import WebSocket from 'ws';
import { runBot } from './bot.ts';
import { ConfigError, readConfig } from './config.ts';
import { createLogger } from './log.ts';

const log = createLogger();

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  log.error('bad configuration', { problem: error.message });
  process.exit(2);
}

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info('stopping', { signal });
    stop.abort();
  });
}

// Node 20 has no global WebSocket: the SDK takes the one from `ws`.
const client = createPneumaticClient({
  url: config.url,
  WebSocket,
  onSessionEnded: (error) => log.warn('session ended', { reason: error.message }),
});
log.info('starting', { url: config.url, user: config.username });
try {
  await runBot({ client, ...config, log, signal: stop.signal });
} catch (error) {
  log.error('stopped on error', { error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
} finally {
  await client.close();
  log.info('stopped');
}
