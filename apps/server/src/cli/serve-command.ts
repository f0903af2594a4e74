import type { Config } from '../config.ts';
import type { Command } from './command.ts';

/** How long a stopping server waits for requests and sockets in flight. */
const SHUTDOWN_GRACE_MS = 10_000;

export function serveCommand(config: () => Config): Command {
  return {
    name: 'serve',
    summary: 'Start the server (default): HTTP, tRPC, WebSocket and the web app',
    help: 'Usage: pneumatic serve\n\nServes on HOST:PORT. SIGTERM or SIGINT stops it gracefully.',
    async run() {
      const cfg = config();
      // Loaded here, not at the top: the other commands start without the server's modules.
      const [{ buildServer, VERSION }, { createLogger }] = await Promise.all([
        import('../app.ts'),
        import('../logger.ts'),
      ]);
      const logger = createLogger(cfg.LOG_LEVEL, {
        pretty: cfg.NODE_ENV === 'development' && process.stdout.isTTY,
      });
      // Our own shutdown handler below: the OpenTelemetry SDK's would swallow SIGTERM.
      const tracing = cfg.OTEL_EXPORTER_OTLP_ENDPOINT
        ? (await import('../tracing-sdk.ts')).startTracing({
            endpoint: cfg.OTEL_EXPORTER_OTLP_ENDPOINT,
            version: VERSION,
          })
        : undefined;
      const server = await buildServer(cfg, logger);
      const address = await server.app.listen({ port: cfg.PORT, host: cfg.HOST });
      logger.info(
        { event: 'start', address, database: server.database.dialect, version: VERSION },
        `Pneumatic listening on ${address}`,
      );

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ event: 'shutdown', signal }, 'shutting down');
        const force = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS);
        force.unref();
        await server.close();
        await tracing?.shutdown();
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      return new Promise<number>(() => {});
    },
  };
}
