import { isIP } from 'node:net';
import { z } from 'zod';
import type { EventInput } from '../schema/event.js';
import { defineEventType } from '../schema/event-type.js';
import { definePreset } from '../schema/preset.js';

/**
 * The event type of one HTTP request, served by a host app or passed through a forward proxy. The
 * name `proxy.request` is historical (the forward-proxy API was its first reader); it is kept so
 * that databases already holding such events, and every API serving them, stay unchanged.
 *
 * @example
 * ```ts
 * import { HTTP_REQUEST_TYPE } from '@eventlog/core';
 * const filter = { type: HTTP_REQUEST_TYPE, dimensions: { status_code: 403 } };
 * ```
 */
export const HTTP_REQUEST_TYPE = 'proxy.request';

/**
 * The `data` payload of an HTTP request event: optional, with the full URL when one is known;
 * other keys (a route pattern, kept headers) are kept as sent.
 *
 * @example
 * ```ts
 * import { httpRequestDataSchema } from '@eventlog/core';
 * httpRequestDataSchema.parse({ url: 'http://example.com/a.zip' });
 * ```
 */
export const httpRequestDataSchema = z.looseObject({ url: z.string().max(4096).optional() }).optional();

/**
 * The HTTP request event type with its dimensions and metric: `ip` (client), `userAgent`,
 * `durationMs`, `outcome` (`ALLOWED`, `BLOCKED`, `DENIED`), the dimensions `method`,
 * `destination` (as shown, e.g. `example.com:443` or `app.local/api/users/:id`), `host`, `path`,
 * `status_code`, `status_text`, `file_extension`, `destination_is_ip` (0/1) and the metric `bytes`.
 * With `rollups: true` the store keeps rollup tables for `method`, `destination`, `host`,
 * `status_code` and the envelope field `ip` (docs/rollups.md). {@link httpRequestEvent} builds one
 * from plain request facts.
 *
 * @example
 * ```ts
 * import { createEventLog, httpRequestEvent, httpRequestsPreset } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * const log = createEventLog({ store: createSqliteStore(), presets: [httpRequestsPreset] });
 * await log.record(httpRequestEvent({ clientIp: '203.0.113.9', method: 'GET', destination: 'app.local/api/users/:id', status: 200 }));
 * ```
 */
export const httpRequestsPreset = definePreset({
  name: 'httpRequests',
  types: [defineEventType(HTTP_REQUEST_TYPE, httpRequestDataSchema, { category: 'proxy' })],
  dimensions: [
    { name: 'method', rollup: true },
    { name: 'destination', indexed: true, rollup: true },
    { name: 'host', indexed: true, rollup: true },
    { name: 'path' },
    { name: 'status_code', type: 'integer', indexed: true, rollup: true },
    { name: 'status_text' },
    { name: 'file_extension' },
    { name: 'destination_is_ip', type: 'integer', rollup: true },
  ],
  metrics: [{ name: 'bytes' }],
  // The client and domain analytics group by the client address: a rollup table keyed by `ip`.
  rollupFields: ['ip'],
});

/** Plain facts about one request, for {@link httpRequestEvent}. */
export interface HttpRequestInput {
  /** When it happened. @default now */
  time?: number | Date;
  /** The client's address. */
  clientIp?: string | null;
  /** `GET`, `CONNECT`, … */
  method: string;
  /** Where it went: `host:port`, a host (with a path), or an absolute URL. */
  destination: string;
  /** The request path, when `destination` is not a URL. */
  path?: string | null;
  /** The status: `403`, or text such as `200 Connection established` or `TCP_DENIED/403`. */
  status: number | string;
  /** Bytes sent to the client. */
  bytes?: number | null;
  /** Milliseconds the request took. */
  durationMs?: number | null;
  /** The `User-Agent` header. */
  userAgent?: string | null;
  /** `ALLOWED`, `BLOCKED`, `DENIED`, … @default `BLOCKED` for status 403, else `ALLOWED` */
  outcome?: string | null;
  /** Owner for scoped reads. */
  tenantId?: string | null;
}

const MAX_DIMENSION = 255;
const clip = (text: string, max = MAX_DIMENSION) => (text.length > max ? text.slice(0, max) : text);
const ABSOLUTE_URL = /^[a-z][a-z0-9+.-]*:\/\//i;

/** The host part of a destination (`example.com:443`, `[::1]:80`, a URL or a bare address), lowercased. */
function hostOf(destination: string): { host: string; path: string | null } {
  const value = destination.trim();
  if (ABSOLUTE_URL.test(value)) {
    try {
      const url = new URL(value);
      return { host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), path: url.pathname || null };
    } catch {
      return { host: value.toLowerCase(), path: null };
    }
  }
  if (isIP(value)) return { host: value.toLowerCase(), path: null };
  const bracketed = /^\[([^\]]+)\](?::\d+)?/.exec(value);
  if (bracketed?.[1]) return { host: bracketed[1].toLowerCase(), path: null };
  const slash = value.indexOf('/');
  const authority = slash >= 0 ? value.slice(0, slash) : value;
  const path = slash >= 0 ? value.slice(slash) : null;
  return { host: authority.replace(/:\d+$/, '').toLowerCase(), path };
}

function extensionOf(path: string | null): string | null {
  if (!path) return null;
  const last = path.split(/[?#]/)[0]!.split('/').pop() ?? '';
  const match = /\.([A-Za-z0-9]{1,10})$/.exec(last);
  return match?.[1] ? match[1].toLowerCase() : null;
}

/**
 * Builds an HTTP request event from plain request facts, deriving the host, the status code, the
 * file extension, whether the destination is a raw IP address, the outcome and a searchable
 * message (`METHOD destination status`).
 *
 * @example
 * ```ts
 * import { httpRequestEvent } from '@eventlog/core';
 * const event = httpRequestEvent({ clientIp: '10.0.0.5', method: 'GET', destination: 'http://198.51.100.7/x.exe', status: 403, userAgent: 'curl/8.5.0' });
 * event.dimensions?.destination_is_ip; // 1
 * ```
 */
export function httpRequestEvent(input: HttpRequestInput): EventInput<typeof HTTP_REQUEST_TYPE, z.input<typeof httpRequestDataSchema>> {
  const method = String(input.method ?? '').toUpperCase();
  const destination = String(input.destination ?? '');
  const statusText = typeof input.status === 'number' ? String(input.status) : String(input.status ?? '');
  const codeMatch = typeof input.status === 'number' ? null : /(?:^|\D)(\d{3})(?:\D|$)/.exec(statusText);
  const code = typeof input.status === 'number' ? input.status : codeMatch?.[1] ? Number(codeMatch[1]) : null;
  const { host, path: urlPath } = hostOf(destination);
  const path = input.path ?? urlPath;
  const outcome = input.outcome ? input.outcome.toUpperCase() : code === 403 ? 'BLOCKED' : 'ALLOWED';
  const event: EventInput<typeof HTTP_REQUEST_TYPE, z.input<typeof httpRequestDataSchema>> = {
    type: HTTP_REQUEST_TYPE,
    action: clip(method, 128),
    outcome: clip(outcome, 64),
    message: `${method} ${destination} ${statusText}`.trim(),
    ip: input.clientIp ?? null,
    userAgent: input.userAgent ? clip(input.userAgent, 512) : null,
    durationMs: input.durationMs ?? null,
    tenantId: input.tenantId ?? null,
    dimensions: {
      method: clip(method),
      destination: clip(destination),
      host: clip(host),
      path: path ? clip(path) : null,
      status_code: code !== null && Number.isSafeInteger(code) ? code : null,
      status_text: clip(statusText),
      file_extension: extensionOf(path),
      destination_is_ip: isIP(host) ? 1 : 0,
    },
    metrics: { bytes: input.bytes ?? null },
  };
  if (input.time !== undefined) event.time = input.time;
  if (ABSOLUTE_URL.test(destination.trim())) event.data = { url: clip(destination, 4096) };
  return event;
}
