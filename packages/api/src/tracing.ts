import { context, type Context as OtelContext, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('pneumatic-api');

/**
 * Runs `fn` inside a span, under `parent` (the HTTP request's span) or the
 * active context. Without a registered tracer provider this costs next to
 * nothing.
 */
export function inSpan<T>(
  name: string,
  attributes: Record<string, string>,
  parent: OtelContext | undefined,
  fn: () => Promise<T>,
  failed: (result: T) => boolean = () => false,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, parent ?? context.active(), async (span) => {
    try {
      const result = await fn();
      if (failed(result)) span.setStatus({ code: SpanStatusCode.ERROR });
      return result;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
