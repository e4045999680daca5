import {
  defineEventType,
  definePreset,
  type EventInput,
  type EventLogReader,
  type FilterInput,
  maskIp,
  type StoredEvent,
} from '@eventlog/core';
import { z } from 'zod';
import { bearerToken, secretTable } from '../auth.js';
import { HttpError } from '../errors.js';
import { queryInt, queryString } from '../params.js';
import { defineProfile, defineRoute, json, type Profile, type RequestContext } from '../profile.js';

/**
 * The kinds of new-api log rows; each is recorded as the event type `newapi.<kind>`.
 *
 * @example
 * ```ts
 * import { NEW_API_KINDS } from '@eventlog/http';
 * NEW_API_KINDS.includes('consume'); // true
 * ```
 */
export const NEW_API_KINDS = ['topup', 'consume', 'manage', 'system', 'error', 'refund', 'login'] as const;

/** One of {@link NEW_API_KINDS}. */
export type NewApiKind = (typeof NEW_API_KINDS)[number];

/**
 * The product's own log type codes (1 top-up, 2 consume, 3 manage, 4 system, 5 error, 6 refund,
 * 7 login), which its clients use to label rows.
 *
 * @example
 * ```ts
 * import { NEW_API_TYPE_CODES } from '@eventlog/http';
 * NEW_API_TYPE_CODES[2]; // 'consume'
 * ```
 */
export const NEW_API_TYPE_CODES: Readonly<Record<number, NewApiKind>> = Object.freeze({
  1: 'topup',
  2: 'consume',
  3: 'manage',
  4: 'system',
  5: 'error',
  6: 'refund',
  7: 'login',
});

/**
 * The numbering printed in the new-api log document (4 = error, 5 = system), for hosts whose
 * clients follow the document rather than the product.
 *
 * @example
 * ```ts
 * import { newApi, NEW_API_DOC_TYPE_CODES, staticTokens } from '@eventlog/http';
 * const profile = newApi({ authenticate: staticTokens([]), typeCodes: NEW_API_DOC_TYPE_CODES });
 * ```
 */
export const NEW_API_DOC_TYPE_CODES: Readonly<Record<number, NewApiKind>> = Object.freeze({
  ...NEW_API_TYPE_CODES,
  4: 'error',
  5: 'system',
});

const dataSchema = z
  .object({
    /** Whether the upstream call streamed. */
    is_stream: z.boolean().optional(),
    /** Extra facts (ratios, admin info), as an object or a JSON string. */
    other: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  })
  .optional();

const TYPE_NAME: Record<NewApiKind, `newapi.${NewApiKind}`> = {
  topup: 'newapi.topup',
  consume: 'newapi.consume',
  manage: 'newapi.manage',
  system: 'newapi.system',
  error: 'newapi.error',
  refund: 'newapi.refund',
  login: 'newapi.login',
};
const ALL_TYPES: string[] = Object.values(TYPE_NAME);
const KIND_OF_TYPE: ReadonlyMap<string, NewApiKind> = new Map(NEW_API_KINDS.map((kind) => [TYPE_NAME[kind], kind]));

/**
 * Event types, dimensions and metrics of new-api's log rows: `newapi.<kind>` types (category =
 * kind), dimensions `token_name`, `model_name`, `group`, `channel_id`, `channel_name`, `token_id`,
 * and metrics `quota`, `prompt_tokens`, `completion_tokens` (both counted in TPM) and `use_time`.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { newApiPreset } from '@eventlog/http';
 * const log = createEventLog({ store: createSqliteStore(), presets: [newApiPreset] });
 * ```
 */
export const newApiPreset = definePreset({
  name: 'newApi',
  types: [
    defineEventType('newapi.topup', dataSchema, { category: 'topup', description: 'Quota recharged (type 1).' }),
    defineEventType('newapi.consume', dataSchema, { category: 'consume', description: 'A model call consumed quota (type 2).' }),
    defineEventType('newapi.manage', dataSchema, { category: 'manage', description: 'An administrator changed something (type 3).' }),
    defineEventType('newapi.system', dataSchema, { category: 'system', description: 'A system event (type 4).' }),
    defineEventType('newapi.error', dataSchema, { category: 'error', severity: 'error', description: 'A failed call (type 5).' }),
    defineEventType('newapi.refund', dataSchema, { category: 'refund', description: 'Quota refunded (type 6).' }),
    defineEventType('newapi.login', dataSchema, { category: 'login', description: 'A user signed in (type 7).' }),
  ],
  dimensions: [
    { name: 'token_name', indexed: true },
    { name: 'model_name', indexed: true },
    { name: 'group' },
    { name: 'channel_id', type: 'integer', indexed: true },
    { name: 'channel_name' },
    { name: 'token_id', type: 'integer', indexed: true },
  ],
  metrics: [{ name: 'quota' }, { name: 'prompt_tokens', tokens: true }, { name: 'completion_tokens', tokens: true }, { name: 'use_time' }],
});

/** A log row in new-api's own words, as a host records it. */
export interface NewApiLogInput {
  /** Log kind. */
  kind: NewApiKind;
  /** Owner of the row; also the tenant `self` endpoints are scoped to. */
  user_id: number | string;
  username?: string;
  /** Unix seconds. @default now */
  created_at?: number;
  content?: string;
  token_name?: string;
  token_id?: number;
  model_name?: string;
  quota?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  /** Seconds the call took. */
  use_time?: number;
  is_stream?: boolean;
  channel_id?: number;
  channel_name?: string;
  group?: string;
  ip?: string;
  /** Extra facts, as an object or a JSON string. */
  other?: string | Record<string, unknown>;
}

/**
 * Converts a new-api log row into an event for `log.record()`: `user_id` becomes the tenant and
 * actor, `username` the actor name, `content` the message, `created_at` the time.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { newApiEvent, newApiPreset } from '@eventlog/http';
 * const log = createEventLog({ store: createSqliteStore(), presets: [newApiPreset] });
 * await log.record(newApiEvent({ kind: 'consume', user_id: 1, model_name: 'gpt-4', quota: 1000, prompt_tokens: 50, completion_tokens: 100 }));
 * ```
 */
export function newApiEvent(row: NewApiLogInput): EventInput<`newapi.${NewApiKind}`, z.input<typeof dataSchema>> {
  const data: { is_stream?: boolean; other?: string | Record<string, unknown> } = {};
  if (row.is_stream !== undefined) data.is_stream = row.is_stream;
  if (row.other !== undefined) data.other = row.other;
  return {
    type: TYPE_NAME[row.kind],
    ...(row.created_at !== undefined ? { time: row.created_at * 1000 } : {}),
    message: row.content ?? null,
    tenantId: String(row.user_id),
    actor: { id: String(row.user_id), type: 'user', name: row.username ?? null },
    ip: row.ip ?? null,
    dimensions: {
      token_name: row.token_name ?? null,
      model_name: row.model_name ?? null,
      group: row.group ?? null,
      channel_id: row.channel_id ?? null,
      channel_name: row.channel_name ?? null,
      token_id: row.token_id ?? null,
    },
    metrics: {
      quota: row.quota ?? null,
      prompt_tokens: row.prompt_tokens ?? null,
      completion_tokens: row.completion_tokens ?? null,
      use_time: row.use_time ?? null,
    },
    ...(Object.keys(data).length ? { data } : {}),
  };
}

/** Who is calling, as the host's `authenticate` hook resolves it. */
export interface NewApiCaller {
  /** The user id; must equal the `New-Api-User` header. */
  userId: number | string;
  /** `admin` and `root` may use the site-wide endpoints. */
  role: 'user' | 'admin' | 'root';
}

/** What the host's `resolveTokenKey` hook returns for a valid API key. */
export interface NewApiToken {
  tokenId: number;
  userId: number | string;
}

/** Options of {@link newApi}. */
export interface NewApiOptions {
  /** Resolves an access token and the `New-Api-User` header to a caller, or null. */
  authenticate: (credentials: { token: string; userId: string; request: Request }) => NewApiCaller | null | Promise<NewApiCaller | null>;
  /** Resolves an API key (without its `sk-` prefix) for `GET /api/log/token`; without it that endpoint answers 401. @default none */
  resolveTokenKey?: (key: string) => NewApiToken | null | Promise<NewApiToken | null>;
  /** Type code → kind. @default NEW_API_TYPE_CODES (the product's codes) */
  typeCodes?: Readonly<Record<number, NewApiKind>>;
  /** Page size when `page_size` is absent or 0. @default 20 */
  defaultPageSize?: number;
  /** Larger `page_size` values are lowered to this. @default 100 */
  maxPageSize?: number;
  /** Most rows of the search and token endpoints. @default 100 */
  listLimit?: number;
  /** Keys of `other` removed from `self` and token answers. @default ['admin_info'] */
  adminOnlyOtherKeys?: readonly string[];
  /** Mask `ip` in every answer (GDPR mode; the log's own `maskIp` option masks everywhere). @default false */
  maskIp?: boolean;
}

/** The largest Unix-seconds timestamp accepted (year 9999). */
const MAX_SECONDS = 253_402_300_799;

const filterShape = {
  type: queryInt({ min: 0, max: 1000, description: 'Log type code; 0 or empty for all.' }),
  start_timestamp: queryInt({ min: 0, max: MAX_SECONDS, description: 'Unix seconds, inclusive.' }),
  end_timestamp: queryInt({ min: 0, max: MAX_SECONDS, description: 'Unix seconds, inclusive.' }),
  username: queryString({ max: 255 }),
  token_name: queryString({ max: 255 }),
  model_name: queryString({ max: 255 }),
  channel: queryInt({ min: 0, max: 2_147_483_647 }),
  group: queryString({ max: 255 }),
};
const pageShape = {
  p: queryInt({ min: Number.MIN_SAFE_INTEGER, description: '1-based page; values below 1 mean 1.' }),
  page_size: queryInt({ min: Number.MIN_SAFE_INTEGER, description: 'Rows per page; 0 means the default.' }),
};
const listQuery = z.object({ ...filterShape, ...pageShape });
const statQuery = z.object(filterShape);
const searchQuery = z.object({ keyword: queryString({ max: 200 }) });

type FilterQuery = z.output<typeof statQuery>;

/**
 * new-api's log module, wire-exact: `GET /api/log/token` (CORS, key as `?key=` or Bearer),
 * `GET /api/log/self`, `/self/stat`, `/self/search` (scoped to the caller), and the admin
 * `GET /api/log/` (also `/api/log`), `DELETE /api/log/`, `GET /api/log/stat`, `/api/log/search`.
 * Answers are `{success, message, data}`; a user on an admin endpoint gets HTTP 200
 * `success:false` like the product, missing or wrong credentials 401.
 *
 * @example
 * ```ts
 * import { newApi, staticTokenKeys, staticTokens } from '@eventlog/http';
 * const profile = newApi({
 *   authenticate: staticTokens([{ token: 'admin-access-token', userId: 1, role: 'admin' }]),
 *   resolveTokenKey: staticTokenKeys([{ key: 'abc123', tokenId: 7, userId: 1 }]),
 * });
 * ```
 */
export function newApi(options: NewApiOptions): Profile {
  const typeCodes = options.typeCodes ?? NEW_API_TYPE_CODES;
  const codeOfKind = new Map(Object.entries(typeCodes).map(([code, kind]) => [kind, Number(code)]));
  const defaultPageSize = options.defaultPageSize ?? 20;
  const maxPageSize = options.maxPageSize ?? 100;
  const listLimit = options.listLimit ?? 100;
  const hiddenOther = options.adminOnlyOtherKeys ?? ['admin_info'];

  const caller = async ({ request }: RequestContext): Promise<NewApiCaller> => {
    const token = bearerToken(request);
    if (!token)
      throw new HttpError('UNAUTHORIZED', 'Not logged in: send Authorization: Bearer <access token> and New-Api-User: <user id>.');
    const userId = request.headers.get('new-api-user')?.trim();
    if (!userId) throw new HttpError('UNAUTHORIZED', 'Send the New-Api-User header with your user id.');
    const found = await options.authenticate({ token, userId, request });
    if (!found) throw new HttpError('UNAUTHORIZED', 'The access token is invalid or expired.');
    if (String(found.userId) !== userId) throw new HttpError('UNAUTHORIZED', 'New-Api-User does not match the user of the access token.');
    return found;
  };
  const adminCaller = async (context: RequestContext): Promise<NewApiCaller> => {
    const found = await caller(context);
    if (found.role !== 'admin' && found.role !== 'root')
      throw new HttpError('FORBIDDEN', 'Insufficient privileges: this endpoint needs an administrator.');
    return found;
  };
  const selfReader = (context: RequestContext, who: NewApiCaller): EventLogReader =>
    context.log.scoped({ role: 'user', id: String(who.userId) });

  /** Turns wire filters into a core filter, or null when nothing can match (an unknown type code). */
  const toFilter = (query: Partial<FilterQuery>, self: boolean, forceType?: NewApiKind): FilterInput | null => {
    let types: string[] = ALL_TYPES;
    if (forceType) types = [TYPE_NAME[forceType]];
    else if (query.type) {
      const kind = typeCodes[query.type];
      if (!kind) return null;
      types = [TYPE_NAME[kind]];
    }
    const filter: FilterInput = { type: types };
    if (query.start_timestamp !== undefined) filter.since = query.start_timestamp * 1000;
    if (query.end_timestamp !== undefined) filter.until = (query.end_timestamp + 1) * 1000;
    if (query.start_timestamp !== undefined && query.end_timestamp !== undefined && query.end_timestamp < query.start_timestamp)
      return null;
    const dimensions: Record<string, string | number> = {};
    if (query.token_name) dimensions.token_name = query.token_name;
    if (query.model_name) dimensions.model_name = query.model_name;
    if (query.group) dimensions.group = query.group;
    if (!self) {
      if (query.username) filter.actorName = query.username;
      if (query.channel) dimensions.channel_id = query.channel;
    }
    if (Object.keys(dimensions).length) filter.dimensions = dimensions;
    return filter;
  };

  const otherString = (event: StoredEvent, admin: boolean): string => {
    const other = (event.data as { other?: unknown } | undefined)?.other;
    if (other === undefined || other === null) return '';
    let value: unknown = other;
    if (!admin && typeof other === 'string') {
      try {
        value = JSON.parse(other);
      } catch {
        return other;
      }
    }
    if (!admin && value && typeof value === 'object' && !Array.isArray(value)) {
      value = Object.fromEntries(Object.entries(value).filter(([key]) => !hiddenOther.includes(key)));
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  };

  const toItem = (event: StoredEvent, admin: boolean): Record<string, unknown> => {
    const kind = KIND_OF_TYPE.get(event.type);
    const userId = event.tenantId ?? event.actor.id;
    const item: Record<string, unknown> = {
      id: event.id,
      user_id: userId !== null && /^\d+$/.test(userId) ? Number(userId) : 0,
      created_at: Math.floor(event.time / 1000),
      type: kind ? (codeOfKind.get(kind) ?? 0) : 0,
      content: event.message ?? '',
      username: event.actor.name ?? '',
      token_name: str(event.dimensions.token_name),
      model_name: str(event.dimensions.model_name),
      quota: num(event.metrics.quota),
      prompt_tokens: num(event.metrics.prompt_tokens),
      completion_tokens: num(event.metrics.completion_tokens),
      use_time: num(event.metrics.use_time),
      is_stream: (event.data as { is_stream?: unknown } | undefined)?.is_stream === true,
      token_id: num(event.dimensions.token_id),
      group: str(event.dimensions.group),
      ip: (options.maskIp ? maskIp(event.ip) : event.ip) ?? '',
      other: otherString(event, admin),
    };
    if (admin) {
      // The product's JSON says `channel`; the document says `channel_id`: clients read either.
      item.channel = num(event.dimensions.channel_id);
      item.channel_id = item.channel;
      item.channel_name = str(event.dimensions.channel_name);
    }
    return item;
  };

  const page = (query: z.output<typeof listQuery>, reader: EventLogReader, admin: boolean) => {
    const p = query.p === undefined || query.p < 1 ? 1 : query.p;
    const size = query.page_size === undefined || query.page_size <= 0 ? defaultPageSize : Math.min(query.page_size, maxPageSize);
    const filter = toFilter(query, !admin);
    if (filter === null) return { items: [], total: 0, page: p, page_size: size };
    if ((p - 1) * size > 100_000)
      throw new HttpError('BAD_REQUEST', `Page ${p} is too deep: narrow the time range or the filters instead.`);
    return reader.query({ filter, page: p, pageSize: size }).then((result) => ({
      items: result.items.map((event) => toItem(event, admin)),
      total: result.total,
      page: p,
      page_size: size,
    }));
  };

  const stat = async (query: FilterQuery, reader: EventLogReader, self: boolean) => {
    // Stats count consume rows only, whatever `type` says, like the product.
    const filter = toFilter({ ...query, type: undefined }, self, 'consume');
    if (filter === null) return { quota: 0, rpm: 0, tpm: 0 };
    const stats = await reader.stats(filter);
    return { quota: stats.sums.quota ?? 0, rpm: stats.rpm, tpm: stats.tpm };
  };

  const search = async (keyword: string | undefined, reader: EventLogReader, admin: boolean) => {
    const filter: FilterInput = { type: ALL_TYPES };
    const term = keyword?.trim() ?? '';
    const code = /^\d+$/.test(term) ? typeCodes[Number(term)] : undefined;
    if (code) filter.type = TYPE_NAME[code];
    else if (term) filter.search = term;
    const result = await reader.query({ filter, page: 1, pageSize: listLimit });
    return result.items.map((event) => toItem(event, admin));
  };

  const routes = [
    defineRoute({
      method: 'GET',
      path: '/api/log/token',
      cors: { allowHeaders: ['Authorization', 'Content-Type'] },
      query: z.object({ key: queryString({ max: 512 }) }),
      run: async ({ request, query, log }) => {
        const raw = query.key ?? bearerToken(request);
        if (!raw) throw new HttpError('UNAUTHORIZED', 'Send the token key as ?key= or Authorization: Bearer sk-….');
        const key = raw.startsWith('sk-') ? raw.slice(3) : raw;
        const token = options.resolveTokenKey ? await options.resolveTokenKey(key) : null;
        if (!token) throw new HttpError('UNAUTHORIZED', 'The token does not exist or has no permission.');
        const reader = log.scoped({ role: 'user', id: String(token.userId) });
        const result = await reader.query({
          filter: { type: ALL_TYPES, dimensions: { token_id: token.tokenId } },
          page: 1,
          pageSize: listLimit,
        });
        return result.items.map((event) => toItem(event, false));
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/log/self/stat',
      auth: caller,
      query: statQuery,
      run: (context) => stat(context.query, selfReader(context, context.auth), true),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/log/self/search',
      auth: caller,
      query: searchQuery,
      run: (context) => search(context.query.keyword, selfReader(context, context.auth), false),
    }),
    defineRoute({
      method: 'GET',
      path: ['/api/log/self', '/api/log/self/'],
      auth: caller,
      query: listQuery,
      run: (context) => page(context.query, selfReader(context, context.auth), false),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/log/stat',
      auth: adminCaller,
      query: statQuery,
      run: ({ query, log }) => stat(query, log, false),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/log/search',
      auth: adminCaller,
      query: searchQuery,
      run: ({ query, log }) => search(query.keyword, log, true),
    }),
    defineRoute({
      method: 'GET',
      path: ['/api/log/', '/api/log'],
      auth: adminCaller,
      query: listQuery,
      run: ({ query, log }) => page(query, log, true),
    }),
    defineRoute({
      method: 'DELETE',
      path: ['/api/log/', '/api/log'],
      auth: adminCaller,
      query: z.object({
        target_timestamp: queryInt({ min: 0, max: MAX_SECONDS, description: 'Unix seconds; rows strictly older are deleted.' }),
      }),
      run: async ({ query, log }) => {
        if (query.target_timestamp === undefined) return json({ success: false, message: 'target timestamp is required' });
        // Deleted in bounded batches by the core, so writers keep the database between them.
        return log.prune({ before: query.target_timestamp * 1000, filter: { type: ALL_TYPES } });
      },
    }),
  ];

  return defineProfile({
    name: 'newApi',
    preset: newApiPreset,
    prefixes: ['/api/log'],
    routes,
    success: (data) => json({ success: true, message: '', data }),
    failure: (error) => json({ success: false, message: error.message }, error.code === 'FORBIDDEN' ? 200 : error.status),
  });
}

function str(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

function num(value: string | number | null | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/**
 * An `authenticate` hook for {@link newApi} over a fixed list of access tokens, compared in constant time.
 *
 * @example
 * ```ts
 * import { staticTokens } from '@eventlog/http';
 * const authenticate = staticTokens([{ token: 'secret-admin-token', userId: 1, role: 'admin' }]);
 * ```
 */
export function staticTokens(entries: readonly (NewApiCaller & { token: string })[]): NewApiOptions['authenticate'] {
  const lookUp = secretTable(entries, 'token', 'staticTokens');
  return ({ token }) => {
    const found = lookUp(token);
    return found ? { userId: found.userId, role: found.role } : null;
  };
}

/**
 * A `resolveTokenKey` hook for {@link newApi} over a fixed list of API keys (without `sk-`), compared in constant time.
 *
 * @example
 * ```ts
 * import { staticTokenKeys } from '@eventlog/http';
 * const resolveTokenKey = staticTokenKeys([{ key: 'abc123', tokenId: 7, userId: 1 }]);
 * ```
 */
export function staticTokenKeys(entries: readonly (NewApiToken & { key: string })[]): NonNullable<NewApiOptions['resolveTokenKey']> {
  const lookUp = secretTable(entries, 'key', 'staticTokenKeys');
  return (key) => {
    const found = lookUp(key);
    return found ? { tokenId: found.tokenId, userId: found.userId } : null;
  };
}
