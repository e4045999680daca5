/**
 * The UniFi Access system-log profile, as the `@eventlog/http/unifi-access` subpath.
 *
 * @module
 */
export * from './profiles/unifi-access/index.js';
