import type { IncomingMessage, Server } from 'node:http';

export interface RequestDeadlines {
  /** A request (headers and body) must have arrived within this. */
  requestMs: number;
  /** …unless it is an upload: a file on a slow link takes longer than any other request. */
  uploadMs: number;
  isUpload(request: IncomingMessage): boolean;
}

/**
 * Node's whole-request timeout, per request: node's own (`requestTimeout`)
 * is one figure for every request, and at 30 s it cut off a 25 MiB upload
 * on anything slower than 7 Mbit/s. The server is made with node's turned
 * off (its headers timeout stays) and this does the same job: a request
 * whose body has not all arrived by its deadline is answered 408 and its
 * connection dropped, exactly as node does it (a `clientError` with node's
 * code, which the server's client-error handler answers), an upload on its
 * own, longer deadline. A request without a body, or done before its
 * deadline, leaves no timer.
 */
export function enforceRequestDeadlines(server: Server, deadlines: RequestDeadlines): void {
  server.on('request', (request: IncomingMessage) => {
    // Without a length or a chunked body there is no body (RFC 9112 §6.3): the request is all here.
    const { 'content-length': length, 'transfer-encoding': encoding } = request.headers;
    if (encoding === undefined && (length === undefined || length === '0')) return;
    const ms = deadlines.isUpload(request) ? deadlines.uploadMs : deadlines.requestMs;
    const timer = setTimeout(() => {
      if (request.complete || request.socket.destroyed) return;
      const error = Object.assign(new Error('Request timeout'), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
      server.emit('clientError', error, request.socket);
    }, ms);
    timer.unref();
    const done = () => clearTimeout(timer);
    request.once('end', done);
    request.once('close', done);
  });
}
