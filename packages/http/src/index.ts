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
// The profiles, each also its own subpath (`@eventlog/http/new-api`, …) so that a host loads only
// what it mounts; the root keeps re-exporting them for compatibility. `jose` is loaded lazily by the
// proxy profile's login tokens only.
export {
  MEDIACP_CATEGORIES,
  type MediaCpAuthenticate,
  type MediaCpCategory,
  type MediaCpEventType,
  type MediaCpOptions,
  type MediaCpTokenEntry,
  type MediaCpUser,
  mediaCp,
  mediaCpEventDataSchema,
  mediaCpPreset,
  mediaCpTokens,
} from './mediacp.js';
export { type NativeAuthenticate, type NativeGrant, type NativeOptions, native } from './native.js';
export {
  NEW_API_DOC_TYPE_CODES,
  NEW_API_KINDS,
  NEW_API_TYPE_CODES,
  type NewApiAuthenticate,
  type NewApiCaller,
  type NewApiKind,
  type NewApiLogInput,
  type NewApiOptions,
  type NewApiResolveTokenKey,
  type NewApiToken,
  newApi,
  newApiEvent,
  newApiPreset,
  staticTokenKeys,
  staticTokens,
} from './new-api.js';
export {
  createOpenApiDocument,
  mountOpenApiDocument,
  type OpenApiDocument,
  type OpenApiMount,
  type OpenApiOptions,
  type OpenApiServer,
} from './openapi.js';
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
  createRouteGroup,
  defineProfile,
  defineRoute,
  json,
  type Profile,
  type RequestContext,
  type Route,
  type RouteContext,
  type RouteDocs,
  type RouteGroup,
  type RouteGroupOptions,
} from './profile.js';
export {
  PROXY_AUDIT_TYPE,
  PROXY_REQUEST_TYPE,
  type ProxyAuthenticate,
  type ProxyHook,
  type ProxyHookContext,
  type ProxyLogsOptions,
  type ProxyRequestInput,
  type ProxyUser,
  type ProxyUserEntry,
  proxyAuditEvent,
  proxyLogs,
  proxyLogsPreset,
  proxyRequestDataSchema,
  proxyRequestEvent,
  proxyUsers,
} from './proxy-logs.js';
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
export {
  UNIFI_LOG_PERMISSION,
  UNIFI_TOPICS,
  type UnifiAccessCaller,
  type UnifiAccessOptions,
  type UnifiAuthenticate,
  type UnifiStaticRequest,
  type UnifiTokenEntry,
  type UnifiTopic,
  unifiAccess,
  unifiAccessPreset,
  unifiAccessTokens,
  unifiEventDataSchema,
} from './unifi-access.js';
export { XUI_ONE_TYPES, type XuiAuthenticate, type XuiOneOptions, xuiApiKeys, xuiOne, xuiOnePreset } from './xui-one.js';
