/**
 * The native JSON API profile, as the `@eventlog/http/native` subpath.
 *
 * @module
 */
export * from './profiles/native/index.js';
