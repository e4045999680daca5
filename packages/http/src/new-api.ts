/**
 * The new-api (LLM gateway) log profile, as the `@eventlog/http/new-api` subpath.
 *
 * @module
 */
export * from './profiles/new-api/index.js';
