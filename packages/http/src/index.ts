export { basicCredentials, bearerToken, findBySecret, safeEqual, secretTable } from './auth.js';
export { DEFAULT_MAX_BODY_BYTES, readBody, readBodyText } from './body.js';
export {
  type AnyErrorCode,
  describeIssues,
  HTTP_ERROR_CODES,
  HTTP_STATUS,
  HttpError,
  type HttpErrorCode,
  type HttpErrorOptions,
  toHttpError,
} from './errors.js';
export { createHandler, type Handler, type HandlerOptions } from './handler.js';
export {
  createOpenApiDocument,
  mountOpenApiDocument,
  type OpenApiDocument,
  type OpenApiMount,
  type OpenApiOptions,
  type OpenApiServer,
} from './openapi.js';
export { type OffsetQueryInput, queryOffset } from './paging.js';
export {
  parseQuery,
  type QueryIntOptions,
  type QueryStringOptions,
  queryEnum,
  queryInt,
  queryList,
  queryNumber,
  queryString,
  type RawQuery,
} from './params.js';
export {
  type AnyEventLog,
  type CorsOptions,
  defineProfile,
  defineRoute,
  json,
  type Profile,
  type RequestContext,
  type Route,
  type RouteContext,
  type RouteDocs,
} from './profile.js';
export {
  MEDIACP_CATEGORIES,
  type MediaCpCategory,
  type MediaCpEventType,
  type MediaCpOptions,
  type MediaCpTokenEntry,
  type MediaCpUser,
  mediaCp,
  mediaCpEventDataSchema,
  mediaCpPreset,
  mediaCpTokens,
} from './profiles/mediacp.js';
export { type NativeOptions, native } from './profiles/native.js';
export {
  NEW_API_DOC_TYPE_CODES,
  NEW_API_KINDS,
  NEW_API_TYPE_CODES,
  type NewApiCaller,
  type NewApiKind,
  type NewApiLogInput,
  type NewApiOptions,
  type NewApiToken,
  newApi,
  newApiEvent,
  newApiPreset,
  staticTokenKeys,
  staticTokens,
} from './profiles/new-api.js';
export {
  PROXY_AUDIT_TYPE,
  PROXY_REQUEST_TYPE,
  type ProxyHook,
  type ProxyHookContext,
  type ProxyLogsOptions,
  type ProxyRequestInput,
  type ProxyUser,
  type ProxyUserEntry,
  proxyLogs,
  proxyLogsPreset,
  proxyRequestDataSchema,
  proxyRequestEvent,
  proxyUsers,
} from './profiles/proxy-logs.js';
export {
  UNIFI_LOG_PERMISSION,
  UNIFI_TOPICS,
  type UnifiAccessCaller,
  type UnifiAccessOptions,
  type UnifiStaticRequest,
  type UnifiTokenEntry,
  type UnifiTopic,
  unifiAccess,
  unifiAccessPreset,
  unifiAccessTokens,
  unifiEventDataSchema,
} from './profiles/unifi-access.js';
export { XUI_ONE_TYPES, type XuiOneOptions, xuiApiKeys, xuiOne, xuiOnePreset } from './profiles/xui-one.js';
export { compilePath, createRouter, METHODS, type Method, type PathPattern, type RouteMatch, type Router } from './router.js';
export {
  createLimiter,
  DEFAULT_SHEDDING,
  type Limiter,
  type Release,
  type ResolvedSheddingOptions,
  type SheddingOptions,
  sheddingDefaults,
  withCost,
} from './shedding.js';
export { type CsvResponseOptions, csvResponse, type SseResponseOptions, sseResponse } from './stream.js';
