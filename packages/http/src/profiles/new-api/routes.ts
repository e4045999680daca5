import type { EventLogView, FilterInput, StoredEvent } from '@eventlog/core';
import { z } from 'zod';
import { bearerToken } from '../../auth.js';
import { HttpError } from '../../errors.js';
import { queryInt, queryString } from '../../params.js';
import { createRouteGroup, json, type Route, type RouteContext } from '../../profile.js';
import { type NewApiCaller, type NewApiToken, newApiAdmin, newApiCaller } from './auth.js';
import type { NewApiOptions } from './index.js';
import { ALL_TYPES, KIND_OF_TYPE, NEW_API_TYPE_CODES, type NewApiKind, TYPE_NAME } from './preset.js';

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

function str(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

function num(value: string | number | null | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Every route of the profile: the token query, the `self` group and the admin group. @internal */
export function newApiRoutes(options: NewApiOptions): Route[] {
  const typeCodes = options.typeCodes ?? NEW_API_TYPE_CODES;
  const codeOfKind = new Map(Object.entries(typeCodes).map(([code, kind]) => [kind, Number(code)]));
  const defaultPageSize = options.defaultPageSize ?? 20;
  const maxPageSize = options.maxPageSize ?? 100;
  const listLimit = options.listLimit ?? 100;
  const hiddenOther = options.adminOnlyOtherKeys ?? ['admin_info'];
  const mask = options.maskIp ? { maskIp: true } : {};
  const selfView = ({ log }: RouteContext, who: NewApiCaller | NewApiToken): EventLogView =>
    log.view({ principal: { role: 'user', id: String(who.userId) }, ...mask });
  const adminView = ({ log }: RouteContext): EventLogView => log.view(mask);

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
      ip: event.ip ?? '',
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

  const page = async (context: RouteContext, query: z.output<typeof listQuery>, view: EventLogView, admin: boolean) => {
    const p = query.p === undefined || query.p < 1 ? 1 : query.p;
    const size = query.page_size === undefined || query.page_size <= 0 ? defaultPageSize : Math.min(query.page_size, maxPageSize);
    const filter = toFilter(query, !admin);
    if (filter === null) return { items: [], total: 0, page: p, page_size: size };
    if ((p - 1) * size > context.log.limits.maxOffset)
      throw new HttpError('BAD_REQUEST', `Page ${p} is too deep: narrow the time range or the filters instead.`);
    const result = await view.query({ filter, page: p, pageSize: size });
    return { items: result.items.map((event) => toItem(event, admin)), total: result.total, page: p, page_size: size };
  };

  const stat = async (query: FilterQuery, view: EventLogView, self: boolean) => {
    // Stats count consume rows only, whatever `type` says, like the product.
    const filter = toFilter({ ...query, type: undefined }, self, 'consume');
    if (filter === null) return { quota: 0, rpm: 0, tpm: 0 };
    const stats = await view.stats(filter);
    return { quota: stats.sums.quota ?? 0, rpm: stats.rpm, tpm: stats.tpm };
  };

  const search = async (keyword: string | undefined, view: EventLogView, admin: boolean) => {
    const filter: FilterInput = { type: ALL_TYPES };
    const term = keyword?.trim() ?? '';
    const code = /^\d+$/.test(term) ? typeCodes[Number(term)] : undefined;
    if (code) filter.type = TYPE_NAME[code];
    else if (term) filter.search = term;
    // A keyset page: the search answers rows only, so nothing counts the (unindexed) matches.
    const result = await view.query({ filter, limit: listLimit });
    return result.items.map((event) => toItem(event, admin));
  };

  const token: Route = {
    method: 'GET',
    path: '/api/log/token',
    cors: { allowHeaders: ['Authorization', 'Content-Type'] },
    query: z.object({ key: queryString({ max: 512 }) }),
    run: async (context: RouteContext<{ key?: string | undefined }>) => {
      const raw = context.query.key ?? bearerToken(context.request);
      if (!raw) throw new HttpError('UNAUTHORIZED', 'Send the token key as ?key= or Authorization: Bearer sk-….');
      const key = raw.startsWith('sk-') ? raw.slice(3) : raw;
      const found = options.resolveTokenKey ? await options.resolveTokenKey(key) : null;
      if (!found) throw new HttpError('UNAUTHORIZED', 'The token does not exist or has no permission.');
      const result = await selfView(context, found).query({
        filter: { type: ALL_TYPES, dimensions: { token_id: found.tokenId } },
        limit: listLimit,
      });
      return result.items.map((event) => toItem(event, false));
    },
  };

  const self = createRouteGroup({ authenticate: newApiCaller(options.authenticate) });
  self.route({
    method: 'GET',
    path: '/api/log/self/stat',
    cost: 'expensive',
    query: statQuery,
    run: (context) => stat(context.query, selfView(context, context.auth), true),
  });
  self.route({
    method: 'GET',
    path: '/api/log/self/search',
    cost: 'expensive',
    query: searchQuery,
    run: (context) => search(context.query.keyword, selfView(context, context.auth), false),
  });
  self.route({
    method: 'GET',
    path: ['/api/log/self', '/api/log/self/'],
    query: listQuery,
    run: (context) => page(context, context.query, selfView(context, context.auth), false),
  });

  const admin = createRouteGroup({ authenticate: newApiAdmin(options.authenticate) });
  admin.route({
    method: 'GET',
    path: '/api/log/stat',
    cost: 'expensive',
    query: statQuery,
    run: (context) => stat(context.query, adminView(context), false),
  });
  admin.route({
    method: 'GET',
    path: '/api/log/search',
    cost: 'expensive',
    query: searchQuery,
    run: (context) => search(context.query.keyword, adminView(context), true),
  });
  admin.route({
    method: 'GET',
    path: ['/api/log/', '/api/log'],
    query: listQuery,
    run: (context) => page(context, context.query, adminView(context), true),
  });
  admin.route({
    method: 'DELETE',
    path: ['/api/log/', '/api/log'],
    query: z.object({
      target_timestamp: queryInt({ min: 0, max: MAX_SECONDS, description: 'Unix seconds; rows strictly older are deleted.' }),
    }),
    run: async ({ query, log }) => {
      if (query.target_timestamp === undefined) return json({ success: false, message: 'target timestamp is required' });
      // Deleted in bounded batches by the core, so writers keep the database between them.
      return log.prune({ before: query.target_timestamp * 1000, filter: { type: ALL_TYPES } });
    },
  });

  return [token, ...self.routes, ...admin.routes];
}
