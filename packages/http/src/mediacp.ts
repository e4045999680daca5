/**
 * The MediaCP Stream Events profile, as the `@eventlog/http/mediacp` subpath.
 *
 * @module
 */
export * from './profiles/mediacp/index.js';
