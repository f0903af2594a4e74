import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Turns tracing on: a global provider exporting over OTLP/HTTP (or through
 * the given processor, for tests), with async context and W3C propagation.
 * Loaded only when tracing is configured.
 */
export function startTracing(options: {
  endpoint?: string;
  processor?: SpanProcessor;
  version: string;
}): Tracing {
  const processor =
    options.processor ??
    new BatchSpanProcessor({
      exporter: new OTLPTraceExporter({ url: `${options.endpoint!.replace(/\/$/, '')}/v1/traces` }),
    });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'pneumatic', 'service.version': options.version }),
    spanProcessors: [processor],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return { shutdown: () => provider.shutdown() };
}
