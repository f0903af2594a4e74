import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The server package's folder: the nearest one above this module holding a package.json. */
function packageRoot(from: string): string {
  for (let dir = from; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return from;
}

/**
 * Where the build of apps/web lands. Found from the package root, since this
 * module may run from src/, from dist/ or from a chunk in dist/chunks/.
 */
export const DEFAULT_WEB_DIST = join(packageRoot(import.meta.dirname), '..', 'web', 'dist');

/** Serves the built web app at `/`, and sends the old static pages there. */
export async function registerWebApp(app: FastifyInstance, webDist: string | undefined): Promise<void> {
  const root = webDist ?? DEFAULT_WEB_DIST;
  for (const old of ['/static/index.html', '/static/chat.html']) {
    app.get(old, (_request, reply) => reply.redirect('/', 301));
  }
  if (!existsSync(join(root, 'index.html'))) {
    app.get('/', (_request, reply) =>
      reply
        .code(503)
        .type('text/html')
        .send(
          '<!doctype html><title>Pneumatic Chat</title><p>The web app is not built. Run <code>npm start</code>, which builds it.</p>',
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    // Hashed asset names never change; the page itself is revalidated.
    setHeaders(res, path) {
      res.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}
