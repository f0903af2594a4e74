import type { IncomingMessage } from 'node:http';
import { type ApiDeps, fail, openFile, sweepAbandonedFiles, uploadFile } from '@pneumatic/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { reportFailure } from '../failures.ts';
import { requestIdentityOf } from '../request-auth.ts';
import { inBody, toRestError } from '../rest/errors.ts';
import { contentDisposition } from './content-disposition.ts';

export interface FilesPluginOptions {
  deps: ApiDeps;
  /** An upload that sends nothing for this long is dropped (408). */
  stallTimeoutMs: number;
  /** Uploads one user may have in progress at once (429 past it): each holds a connection for long. */
  maxUploadsPerUser: number;
  /** How often abandoned uploads are swept; 0 never (tests sweep by hand). */
  sweepIntervalMs: number;
}

/** What a download may do once it reaches a browser: nothing but be itself. */
const DOWNLOAD_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

class UploadStalled extends Error {}

/** An upload (`POST /files`), which has a deadline of its own (request-deadlines.ts). */
export function isUploadRequest(request: IncomingMessage): boolean {
  const url = request.url ?? '';
  return request.method === 'POST' && (url === '/files' || url.startsWith('/files?'));
}

/**
 * The request body, chunk by chunk as it arrives (the socket is paused
 * while a chunk is stored), failing with UploadStalled when nothing comes
 * for `stallMs`.
 */
async function* bodyOf(request: FastifyRequest, stallMs: number): AsyncGenerator<Uint8Array> {
  const chunks = request.raw[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UploadStalled()), stallMs);
      });
      const next = await Promise.race([chunks.next(), stalled]);
      clearTimeout(timer);
      if (next.done) return;
      yield next.value as Uint8Array;
    }
  } finally {
    clearTimeout(timer);
  }
}

function declaredLength(request: FastifyRequest): number | undefined {
  const header = request.headers['content-length'];
  return header !== undefined && /^\d{1,16}$/.test(header) ? Number(header) : undefined;
}

function sendFailure(request: FastifyRequest, reply: FastifyReply, error: unknown, bodyLeft: boolean) {
  // A body left unread is not drained (it could be gigabytes): the connection closes after the answer.
  if (bodyLeft) reply.header('connection', 'close');
  if (error instanceof UploadStalled)
    return reply.code(408).send({ detail: 'Upload stalled: no data received in time' });
  const restError = toRestError(reportFailure(request.log, error), inBody);
  return reply
    .code(restError.status)
    .headers(restError.headers ?? {})
    .send(restError.body);
}

/**
 * Files over plain HTTP, streamed both ways: `POST /files` (the raw body is
 * the file) and `GET /files/{id}` (also `/files/{id}/{name}`, the name only
 * for the browser's sake), with a bearer token, or for downloads a signed
 * `access` parameter from `files.link`.
 */
export async function filesPlugin(app: FastifyInstance, opts: FilesPluginOptions): Promise<void> {
  const { deps } = opts;
  // The body is the file: left unread by fastify, streamed by the route. Scoped to this plugin.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  /** Uploads in progress, by user. */
  const uploading = new Map<string, number>();

  app.post('/files', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    let bodyLeft = true;
    let userId: string | undefined;
    try {
      const auth = await requestIdentityOf(deps, request)();
      const inProgress = uploading.get(auth.user.id) ?? 0;
      if (inProgress >= opts.maxUploadsPerUser)
        throw fail.tooManyRequests(`At most ${opts.maxUploadsPerUser} uploads at once`);
      userId = auth.user.id;
      uploading.set(userId, inProgress + 1);
      const file = await uploadFile(deps, auth.user.id, {
        conversationId: typeof query.conversation_id === 'string' ? query.conversation_id : '',
        name: typeof query.name === 'string' ? query.name : undefined,
        declaredBytes: declaredLength(request),
        body: bodyOf(request, opts.stallTimeoutMs),
      });
      bodyLeft = false;
      request.log.info({ event: 'file uploaded', fileId: file.id, size: file.size, type: file.type });
      return reply.code(201).send(file);
    } catch (error) {
      return sendFailure(request, reply, error, bodyLeft && !request.raw.complete);
    } finally {
      if (userId !== undefined) {
        const left = (uploading.get(userId) ?? 1) - 1;
        if (left > 0) uploading.set(userId, left);
        else uploading.delete(userId);
      }
    }
  });

  const download = async (request: FastifyRequest, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const { access } = request.query as { access?: unknown };
    try {
      let userId: string;
      if (typeof access === 'string') {
        const signedFor = deps.fileLinks.verify(id, access);
        if (!signedFor) throw fail.unauthorized('invalid');
        userId = signedFor;
      } else {
        userId = (await requestIdentityOf(deps, request)()).user.id;
      }
      const opened = await openFile(deps, userId, id);
      const { file } = opened;
      return reply
        .code(200)
        .headers({
          'content-type': opened.inline ? file.type : 'application/octet-stream',
          'content-length': String(file.size),
          'content-disposition': contentDisposition(opened.inline ? 'inline' : 'attachment', file.name),
          'x-content-type-options': 'nosniff',
          'content-security-policy': DOWNLOAD_CSP,
          'cross-origin-resource-policy': 'same-origin',
          'cache-control': 'private, max-age=600',
        })
        .send(opened.body);
    } catch (error) {
      return sendFailure(request, reply, error, false);
    }
  };
  app.get('/files/:id', download);
  app.get('/files/:id/:name', download);

  if (opts.sweepIntervalMs > 0) {
    const sweep = setInterval(() => {
      sweepAbandonedFiles(deps).then(
        (removed) => {
          if (removed > 0) app.log.info({ event: 'abandoned uploads removed', count: removed });
        },
        (err: unknown) => app.log.warn({ err }, 'sweep of abandoned uploads failed'),
      );
    }, opts.sweepIntervalMs);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));
  }
}
