/**
 * The forward-proxy logs-and-analytics profile, as the `@eventlog/http/proxy-logs` subpath: the only
 * entry that loads `jose` (for its login tokens).
 *
 * @module
 */
export * from './profiles/proxy-logs/index.js';
