import type { EventLog } from '@eventlog/core';
import type { ProxyAuthenticate, ProxyUser } from './auth.js';

/** What a host hook for a settings endpoint receives. */
export interface ProxyHookContext {
  /** The authenticated caller. */
  readonly user: ProxyUser;
  /** The web-standard request. */
  readonly request: Request;
  /** The log the handler serves. */
  readonly log: EventLog;
}

/** Answers a settings endpoint (its `data`), for {@link ProxyLogsOptions.hooks}. */
export type ProxyHook = (context: ProxyHookContext) => unknown | Promise<unknown>;

/** Options of `proxyLogs()`. */
export interface ProxyLogsOptions {
  /** Checks a user name and password (Basic auth and `POST /api/auth/login`); `null` answers 401. See `proxyUsers`. */
  authenticate: ProxyAuthenticate;
  /** HS256 key of the login tokens, at least 32 bytes. @default random per process (tokens end with the process) */
  jwtSecret?: string | Uint8Array;
  /** Lifetime of a login token in seconds. @default 86400 */
  tokenTtlSeconds?: number;
  /** The `log_retention_days` setting `clear-old` uses without `?days=`. @default 30 */
  retentionDays?: number | (() => number | Promise<number>);
  /** GDPR mode: mask `client_ip` (and client statistics) through the core's masked view. @default false */
  gdpr?: boolean | (() => boolean | Promise<boolean>);
  /** IANA zone of every `YYYY-MM-DD HH:MM:SS` time, of "today" and of the hourly buckets. @default 'UTC' */
  timeZone?: string;
  /** Event types read as proxy requests (add e.g. a request logger's type). @default ['proxy.request'] */
  types?: readonly string[];
  /** Largest `limit` of list endpoints. @default 1000 */
  maxLimit?: number;
  /** Distinct user agents scanned by `/api/analytics/user-agents`; at most the log's `limits.maxTopLimit`. @default 1000 */
  maxUserAgents?: number;
  /** Time of the last log import for `/api/logs/stats`. @default the time of the newest request event */
  lastImport?: () => number | Date | null | Promise<number | Date | null>;
  /** Settings endpoints that are not logs; each absent one answers 404. @default none */
  hooks?: {
    /** `GET /api/security/score` */
    securityScore?: ProxyHook;
    /** `GET /api/analytics/shadow-it` */
    shadowIt?: ProxyHook;
    /** `GET /api/waf/stats` */
    wafStats?: ProxyHook;
    /** `GET /api/waf/categories` */
    wafCategories?: ProxyHook;
  };
  /** Source of "now" (tokens, today, timelines); pass the log's clock in tests. @default Date.now */
  clock?: () => number;
}
