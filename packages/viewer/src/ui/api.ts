// The wire shapes are the core's own types (type-only imports: nothing of the core is bundled).
import type { OpenSession, Stats, StoredEvent, Timeline, TimelinePoint, TopEntry } from '@eventlog/core';

export type { OpenSession, Stats, StoredEvent, Timeline, TimelinePoint };
/** One row of a top-N panel. */
export type TopRow = TopEntry;

export interface EventsPage {
  data: StoredEvent[];
  nextCursor: string | null;
}
export interface Whoami {
  principal: { role: string; id?: string; tenantIds?: string[]; tenantId?: string };
  expiresAt?: number | string | null;
  filter?: unknown;
}
export interface SchemaInfo {
  types?: Array<string | { name: string }>;
  dimensions?: Array<string | { name: string }>;
  metrics?: Array<string | { name: string }>;
  /** The metrics TPM sums. */
  tpmMetrics?: string[];
}

/** The credentials were refused (missing, expired or tampered token). */
export class AuthError extends Error {}

/** Any other refused request, with the API's own message. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface Api {
  get<T>(path: string, params?: URLSearchParams, signal?: AbortSignal): Promise<T>;
  /** Like get, but `null` when the route does not exist on this server. */
  optional<T>(path: string, signal?: AbortSignal): Promise<T | null>;
  blob(path: string, params: URLSearchParams): Promise<Blob>;
  /** Reads the server-sent-events live tail with fetch streaming until the signal aborts. */
  tail(params: URLSearchParams, onEvent: (event: StoredEvent) => void, signal: AbortSignal): Promise<void>;
}

/** The native API at `base`, called with `Authorization: Bearer <token>`. */
export function createApi(base: string, token: string): Api {
  const request = async (path: string, params: URLSearchParams | undefined, signal?: AbortSignal, accept = 'application/json') => {
    const query = params?.toString();
    const response = await fetch(`${base}${path}${query ? `?${query}` : ''}`, {
      headers: { Authorization: `Bearer ${token}`, Accept: accept },
      cache: 'no-store',
      credentials: 'omit',
      ...(signal ? { signal } : {}),
    });
    if (response.status === 401 || response.status === 403) throw new AuthError(await messageOf(response));
    return response;
  };
  const checked = async (response: Response) => {
    if (!response.ok) throw new ApiError(await messageOf(response), response.status);
    return response;
  };
  return {
    async get<T>(path: string, params?: URLSearchParams, signal?: AbortSignal) {
      return (await (await checked(await request(path, params, signal))).json()) as T;
    },
    async optional<T>(path: string, signal?: AbortSignal) {
      const response = await request(path, undefined, signal);
      if (response.status === 404 || response.status === 405) return null;
      return (await (await checked(response)).json()) as T;
    },
    async blob(path: string, params: URLSearchParams) {
      return (await checked(await request(path, params, undefined, 'text/csv'))).blob();
    },
    async tail(params, onEvent, signal) {
      const response = await checked(await request('/tail', params, signal, 'text/event-stream'));
      const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
      if (!reader) return;
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data:'))
            .map((line) => line.slice(5).trimStart())
            .join('\n');
          if (data) {
            try {
              onEvent(JSON.parse(data) as StoredEvent);
            } catch {
              // A line that is not an event (a comment, a heartbeat) is skipped.
            }
          }
          end = buffer.indexOf('\n\n');
        }
      }
    },
  };
}

async function messageOf(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body?.error?.message === 'string') return body.error.message;
  } catch {
    // not the native envelope
  }
  return `The server answered ${response.status}.`;
}

/** Names from a schema list of strings or `{ name }` objects. */
export function namesOf(list: SchemaInfo['metrics']): string[] {
  return (list ?? []).map((item) => (typeof item === 'string' ? item : item?.name)).filter((n): n is string => typeof n === 'string');
}
