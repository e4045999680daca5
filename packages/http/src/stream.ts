import type { StoredEvent } from '@eventlog/core';

/** Options of {@link csvResponse}. */
export interface CsvResponseOptions {
  /** Offered file name (`Content-Disposition: attachment`). @default 'events.csv' */
  filename?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
}

/**
 * Streams CSV chunks (e.g. `log.exportCsv(...)`) as a response, pulling the next chunk only when
 * the client has taken the last one. The first rows are read before answering, so a failing query
 * still gets an error status instead of a truncated 200.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { csvResponse } from '@eventlog/http';
 * const log = createEventLog({ store: createSqliteStore() });
 * const response = await csvResponse(log.exportCsv({ timeZone: 'Europe/Paris' }), { filename: 'logs.csv' });
 * ```
 */
export async function csvResponse(chunks: AsyncIterable<string>, options: CsvResponseOptions = {}): Promise<Response> {
  const iterator = chunks[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  // Read the header and the first batch now: the query runs before the status is committed.
  const head: string[] = [];
  let finished = false;
  for (let i = 0; i < 2 && !finished; i++) {
    const next = await iterator.next();
    if (next.done) finished = true;
    else head.push(next.value);
  }
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        if (head.length) controller.enqueue(encoder.encode(head.join('')));
        if (finished) controller.close();
      },
      async pull(controller) {
        if (finished) return;
        const next = await iterator.next();
        if (next.done) {
          finished = true;
          controller.close();
        } else controller.enqueue(encoder.encode(next.value));
      },
      async cancel() {
        finished = true;
        await iterator.return?.();
      },
    },
    { highWaterMark: 1 },
  );
  const filename = (options.filename ?? 'events.csv').replace(/["\\\r\n]/g, '_');
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="${filename}"`,
      'Cache-Control': 'no-store',
      ...options.headers,
    },
  });
}

/** Options of {@link sseResponse}. */
export interface SseResponseOptions {
  /** Closes the stream when aborted (pass the request's signal). */
  signal?: AbortSignal;
  /** Interval of keep-alive comments. @default 15000 */
  heartbeatMs?: number;
  /** Events buffered for a slow client before it is disconnected. @default 1000 */
  maxQueued?: number;
  /** Turns a stored event into the SSE `data` payload. @default JSON of the event */
  format?: (event: StoredEvent) => unknown;
  /** The SSE `event:` name. @default 'event' */
  eventName?: string;
}

/**
 * A server-sent-events response fed by a subscription (e.g. `log.subscribe`). The subscription is
 * released when the client disconnects, the signal aborts, or the client falls `maxQueued` behind.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { sseResponse } from '@eventlog/http';
 * const log = createEventLog({ store: createSqliteStore() });
 * const response = sseResponse((send) => log.subscribe({ type: 'app.error' }, send));
 * ```
 */
export function sseResponse(subscribe: (send: (event: StoredEvent) => void) => () => void, options: SseResponseOptions = {}): Response {
  const encoder = new TextEncoder();
  const maxQueued = options.maxQueued ?? 1000;
  const format = options.format ?? ((event: StoredEvent) => event);
  const eventName = options.eventName ?? 'event';
  let cleanup = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        cleanup();
        try {
          controller.close();
        } catch {
          // Already cancelled by the consumer.
        }
      };
      const unsubscribe = subscribe((event) => {
        if (closed) return;
        // desiredSize goes negative as unread events pile up; a client that stopped reading is dropped.
        if ((controller.desiredSize ?? 0) < -maxQueued) return close();
        const line = `id: ${event.id}\nevent: ${eventName}\ndata: ${JSON.stringify(format(event))}\n\n`;
        controller.enqueue(encoder.encode(line));
      });
      const timer = setInterval(() => {
        if (!closed) controller.enqueue(encoder.encode(': keep-alive\n\n'));
      }, options.heartbeatMs ?? 15_000);
      timer.unref?.();
      const onAbort = () => close();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      cleanup = () => {
        closed = true;
        clearInterval(timer);
        unsubscribe();
        options.signal?.removeEventListener('abort', onAbort);
      };
      controller.enqueue(encoder.encode(': connected\n\n'));
      if (options.signal?.aborted) close();
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    },
  });
}
