import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../src/tracing-sdk.ts';
import { Rest } from './helpers/rest.ts';
import { startServer, type TestServer } from './helpers/server.ts';

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let t: TestServer;
  beforeAll(async () => {
    tracing = startTracing({ processor: new SimpleSpanProcessor({ exporter }), version: 'test' });
    t = await startServer('sqlite', {}, { tracing: true });
  });
  afterAll(async () => {
    await t.close();
    await tracing.shutdown();
  });

  it('shows one send as an HTTP span, its procedure span and its database spans, in one trace', async () => {
    const api = new Rest(t.url);
    const user = await api.user('traced');
    const room = await api.conversation(user.token, []);
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const reply = await api.request('POST', '/messages', {
      token: user.token,
      body: { message_id: 'trace-1', sender_id: user.id, conversation_id: room, content: 'hello' },
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(reply.status).toBe(201);
    // The request span ends after the response is on its way: wait for it.
    await expect
      .poll(() =>
        exporter
          .getFinishedSpans()
          .some((s) => s.name === 'POST /messages' && s.spanContext().traceId === traceId),
      )
      .toBe(true);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const http = spans.find((s) => s.name === 'POST /messages');
    const procedure = spans.find((s) => s.name === 'trpc messages.send');
    const queries = spans.filter((s) => s.name === 'db.query');
    expect(http).toBeDefined();
    expect(procedure?.parentSpanContext?.spanId).toBe(http!.spanContext().spanId);
    // The batch the send went in, written by the writer thread, as one query of the send's trace.
    expect(queries.length).toBeGreaterThan(0);
    expect(
      queries.some((q) => /^insert (or \w+ )?into "?messages"?/.test(String(q.attributes['db.query.text']))),
    ).toBe(true);
    expect(queries.every((q) => q.parentSpanContext?.spanId === procedure!.spanContext().spanId)).toBe(true);
    expect(http!.attributes['http.response.status_code']).toBe(201);
    // Query text has placeholders, never the message content.
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('hello');
  });

  it('parents a tRPC call over HTTP under its request span', async () => {
    const api = new Rest(t.url);
    const user = await api.user('traced2');
    exporter.reset();
    const traceId = '5bf92f3577b34da6a3ce929d0e0e4737';
    const reply = await fetch(`${t.url}/trpc/users.list`, {
      headers: { authorization: `Bearer ${user.token}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(reply.status).toBe(200);
    await expect
      .poll(() =>
        exporter
          .getFinishedSpans()
          .some((s) => s.name === 'GET /trpc/:path' && s.spanContext().traceId === traceId),
      )
      .toBe(true);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const http = spans.find((s) => s.name === 'GET /trpc/:path');
    const procedure = spans.find((s) => s.name === 'trpc users.list');
    expect(procedure?.parentSpanContext?.spanId).toBe(http?.spanContext().spanId);
  });
});
