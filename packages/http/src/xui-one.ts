/**
 * The XUI.ONE logs-and-events profile, as the `@eventlog/http/xui-one` subpath.
 *
 * @module
 */
export * from './profiles/xui-one/index.js';
