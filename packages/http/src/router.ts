/**
 * HTTP methods a route can serve (HEAD is served by GET routes, OPTIONS by the handler).
 *
 * @example
 * ```ts
 * import { METHODS } from '@eventlog/http';
 * METHODS.includes('DELETE'); // true
 * ```
 */
export const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** One of {@link METHODS}. */
export type Method = (typeof METHODS)[number];

type Segment = { kind: 'literal'; value: string } | { kind: 'param'; name: string } | { kind: 'rest'; name: string };

/** A compiled path pattern. */
export interface PathPattern {
  /** The pattern as written, e.g. `/events/:id`. */
  readonly source: string;
  /** Names of its parameters, in order. */
  readonly names: readonly string[];
  /** The parameters of `path`, or null when it does not match. */
  match(path: string): Record<string, string> | null;
}

/**
 * Compiles a path pattern: literal segments, `:name` for one segment, `*name` (last) for the rest.
 * A trailing slash is significant, so `/api/log` and `/api/log/` are two patterns.
 *
 * @example
 * ```ts
 * import { compilePath } from '@eventlog/http';
 * compilePath('/events/:id').match('/events/42'); // { id: '42' }
 * ```
 */
export function compilePath(source: string): PathPattern {
  if (!source.startsWith('/')) throw new TypeError(`Route path "${source}" must start with "/".`);
  const segments: Segment[] = source
    .slice(1)
    .split('/')
    .map((part, index, all) => {
      if (part.startsWith(':')) return { kind: 'param', name: checkName(part.slice(1), source) };
      if (part.startsWith('*')) {
        if (index !== all.length - 1) throw new TypeError(`In "${source}", "${part}" must be the last segment.`);
        return { kind: 'rest', name: checkName(part.slice(1), source) };
      }
      return { kind: 'literal', value: part };
    });
  const names = segments.flatMap((s) => (s.kind === 'literal' ? [] : [s.name]));
  return {
    source,
    names,
    match(path: string) {
      const parts = path.slice(1).split('/');
      const params: Record<string, string> = {};
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i]!;
        const part = parts[i];
        if (segment.kind === 'rest') {
          const rest = parts.slice(i).join('/');
          if (rest === '') return null;
          params[segment.name] = safeDecode(rest);
          return params;
        }
        if (part === undefined) return null;
        if (segment.kind === 'literal') {
          if (part !== segment.value) return null;
        } else {
          if (part === '') return null;
          params[segment.name] = safeDecode(part);
        }
      }
      return parts.length === segments.length ? params : null;
    },
  };
}

function checkName(name: string, source: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`In "${source}", parameter name "${name}" is not valid.`);
  return name;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // A malformed escape is kept as sent; the route's schema decides whether it is acceptable.
    return part;
  }
}

/** What {@link Router.match} found for a method and path. */
export type RouteMatch<T> =
  | { kind: 'found'; value: T; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: Method[]; values: T[] }
  | { kind: 'not-found' };

/** Matches method and path to registered values, telling "no such path" (404) from "wrong method" (405). */
export interface Router<T> {
  /** Registers `value` for `method` on every pattern in `paths`. */
  add(method: Method | readonly Method[], paths: string | readonly string[], value: T): void;
  /** The value for `method` and `path`; HEAD matches GET. */
  match(method: string, path: string): RouteMatch<T>;
  /** Every value whose pattern matches `path`, whatever its method. */
  matchPath(path: string): T[];
}

/**
 * Creates a router; entries are tried in the order they were added, so add specific paths first.
 *
 * @example
 * ```ts
 * import { createRouter } from '@eventlog/http';
 * const router = createRouter<string>();
 * router.add('GET', '/events/:id', 'get-event');
 * router.match('GET', '/events/7'); // { kind: 'found', value: 'get-event', params: { id: '7' } }
 * router.match('POST', '/events/7').kind; // 'method-not-allowed'
 * ```
 */
export function createRouter<T>(): Router<T> {
  const entries: { methods: readonly Method[]; pattern: PathPattern; value: T }[] = [];
  return {
    add(method, paths, value) {
      const methods = (typeof method === 'string' ? [method] : [...method]) as Method[];
      for (const m of methods) if (!METHODS.includes(m)) throw new TypeError(`Unsupported method "${m}".`);
      for (const path of typeof paths === 'string' ? [paths] : paths) entries.push({ methods, pattern: compilePath(path), value });
    },
    match(method, path) {
      const wanted = method === 'HEAD' ? 'GET' : method;
      const allow = new Set<Method>();
      const values: T[] = [];
      for (const entry of entries) {
        const params = entry.pattern.match(path);
        if (!params) continue;
        if (entry.methods.includes(wanted as Method)) return { kind: 'found', value: entry.value, params };
        for (const m of entry.methods) allow.add(m);
        values.push(entry.value);
      }
      return allow.size ? { kind: 'method-not-allowed', allow: [...allow], values } : { kind: 'not-found' };
    },
    matchPath(path) {
      return entries.filter((e) => e.pattern.match(path)).map((e) => e.value);
    },
  };
}
