import { HttpError } from './errors.js';
import { parseQuery } from './params.js';

/**
 * Default largest request body, in bytes (1 MiB).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_BODY_BYTES } from '@eventlog/http';
 * DEFAULT_MAX_BODY_BYTES; // 1048576
 * ```
 */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Reads a request body as text, refusing it with 413 once it passes `maxBytes` (checked against
 * `Content-Length` first, then while streaming, so a lying header cannot get more in).
 *
 * @example
 * ```ts
 * import { readBodyText } from '@eventlog/http';
 * const text = await readBodyText(new Request('http://x/', { method: 'POST', body: 'hi' }), 1024); // 'hi'
 * ```
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError('PAYLOAD_TOO_LARGE', `The request body is larger than ${maxBytes} bytes; send less per request.`);
}

/**
 * Reads and decodes a body by its media type: JSON or form-encoded; an empty body is `undefined`.
 *
 * @example
 * ```ts
 * import { readBody } from '@eventlog/http';
 * const request = new Request('http://x/', { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } });
 * const body = await readBody(request, 1024); // { a: 1 }
 * ```
 */
export async function readBody(request: Request, maxBytes: number): Promise<unknown> {
  const text = await readBodyText(request, maxBytes);
  if (text.trim() === '') return undefined;
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return parseQuery(new URLSearchParams(text));
  if (type === 'application/json' || type.endsWith('+json') || type === '') {
    try {
      return JSON.parse(text);
    } catch {
      throw new HttpError('BAD_REQUEST', 'The request body is not valid JSON.');
    }
  }
  throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `Send the body as application/json, not ${type}.`);
}
