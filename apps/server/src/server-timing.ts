import type { FastifyInstance } from 'fastify';

/**
 * `Server-Timing: app;dur=<ms>` on every HTTP response: the time from the
 * request reaching fastify (routed, before the onRequest hooks) until its
 * payload is serialized and about to be written. Network and client time are
 * not in it, so operators and the bench can tell the server's share of a slow
 * request from the rest.
 */
export function registerServerTiming(app: FastifyInstance): void {
  // A callback hook: no promise per response. elapsedTime is fastify's own clock
  // (performance.now), started for every request because this server has a logger.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('server-timing', `app;dur=${reply.elapsedTime.toFixed(3)}`);
    done(null, payload);
  });
}
