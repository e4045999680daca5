/**
 * Scoped, short-lived, read-only viewer tokens for the native API, as the
 * `@eventlog/http/viewer-token` subpath: {@link createViewerToken} signs one, {@link viewerTokenAuth}
 * is the native profile's `authenticate` hook that checks it. Only this subpath loads `jose`.
 *
 * @module
 */
export {
  createViewerToken,
  MAX_VIEWER_TOKEN_TTL,
  type ViewerTokenAuthOptions,
  type ViewerTokenOptions,
  type ViewerTokenSecret,
  viewerTokenAuth,
} from './viewer-token/viewer-token.js';
