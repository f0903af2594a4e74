import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export const tracer = trace.getTracer('pneumatic-server');

const spans = new WeakMap<FastifyRequest, Span>();

/** The request's span as a context, for work done on its behalf. */
export function requestContext(request: FastifyRequest) {
  const span = spans.get(request);
  return span ? trace.setSpan(context.active(), span) : context.active();
}

/** One server span per HTTP request, continuing a caller's trace (traceparent); its trace id joins the log lines. */
export function registerHttpSpans(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    const parent = propagation.extract(context.active(), request.headers);
    const route = request.routeOptions.url ?? 'unmatched';
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'url.path': request.url.split('?')[0],
        },
      },
      parent,
    );
    spans.set(request, span);
    const { traceId, spanId } = span.spanContext();
    const child = request.log.child({ trace_id: traceId, span_id: spanId });
    request.log = child;
    reply.log = child;
  });
  app.addHook('onResponse', async (request, reply) => {
    const span = spans.get(request);
    if (!span) return;
    span.setAttribute('http.response.status_code', reply.statusCode);
    if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
}

/** A span for a database query that just finished, as a child of whatever is active. */
export function recordQuerySpan(sql: string, durationMs: number, failed: boolean, system: string): void {
  const end = Date.now();
  const span = tracer.startSpan('db.query', {
    kind: SpanKind.CLIENT,
    startTime: end - durationMs,
    attributes: { 'db.system.name': system, 'db.query.text': sql },
  });
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(end);
}
