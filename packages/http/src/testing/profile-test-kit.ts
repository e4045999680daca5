// Helpers shared by this package's tests only; not exported from the package.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Handler } from '../handler.js';
import { toNodeHandler } from '../node.js';

/**
 * Lists every place where `actual` differs from a documented example in shape or JSON type: each
 * key of the example must exist with the same JSON type (arrays are checked item by item against
 * the example's first item). Extra keys in `actual` are allowed.
 */
export function shapeMismatches(actual: unknown, example: unknown, path = '$'): string[] {
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (kind(actual) !== kind(example)) return [`${path}: expected ${kind(example)}, got ${kind(actual)} (${JSON.stringify(actual)})`];
  if (Array.isArray(example)) {
    const template = example[0];
    if (template === undefined) return [];
    return (actual as unknown[]).flatMap((item, i) => shapeMismatches(item, template, `${path}[${i}]`));
  }
  if (example && typeof example === 'object') {
    return Object.entries(example).flatMap(([key, value]) =>
      key in (actual as object)
        ? shapeMismatches((actual as Record<string, unknown>)[key], value, `${path}.${key}`)
        : [`${path}.${key}: missing`],
    );
  }
  return [];
}

/** Serves a handler on 127.0.0.1 with an ephemeral port; `close` ends every connection. */
export async function listen(handler: Handler): Promise<{ base: string; close: () => Promise<void>; server: Server }> {
  const server = createServer(toNodeHandler(handler));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
