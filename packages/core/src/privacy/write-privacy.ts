import type { NormalizedEvent } from '../schema/event.js';
import type { Registry } from '../schema/registry.js';
import { type IpMaskOptions, maskWith, resolveIpMask } from './mask-prefix.js';
import { createRedactor, DEFAULT_REDACT_OPTIONS, type RedactOptions, type Redactor } from './redact.js';

/** The privacy rules of a log, or of one event type in `privacy.types`. */
export interface PrivacyRules {
  /**
   * Masks the event's `ip` before it is stored: `true` keeps /24 of IPv4 and /48 of IPv6, an
   * object sets the prefix lengths; values that are not IP addresses are stored as `null`.
   * Separate from the log's read-time `maskIp` option. @default false
   */
  maskIp?: boolean | IpMaskOptions;
  /**
   * Redacts secrets and personal data before the event is stored: `true` uses
   * `DEFAULT_REDACT_KEYS` on `data` and `DEFAULT_REDACT_PATTERNS` on `message` and `userAgent`,
   * an object names its own rules (nothing is added to them). @default false
   */
  redact?: boolean | RedactOptions;
}

/**
 * Privacy applied when events are written, after validation and before anything is stored,
 * returned from `record()` or delivered to subscribers and `recorded` listeners.
 *
 * @example
 * ```ts
 * import { createEventLog, DEFAULT_REDACT_KEYS, DEFAULT_REDACT_PATTERNS } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 *
 * const log = createEventLog({
 *   store: createSqliteStore({ filename: 'events.db' }),
 *   privacy: {
 *     maskIp: { ipv4Prefix: 24, ipv6Prefix: 48 },
 *     redact: { keys: [...DEFAULT_REDACT_KEYS, 'phone'], paths: ['data.user.name'], patterns: DEFAULT_REDACT_PATTERNS },
 *     types: { 'proxy.request': { maskIp: { ipv4Prefix: 16 } } },
 *   },
 * });
 * ```
 */
export interface PrivacyOptions extends PrivacyRules {
  /**
   * Rules for single event types, by type name. Each setting a type names (`maskIp`, `redact`)
   * replaces the log's setting of that name for events of the type, whole (lists are not merged);
   * settings it leaves out are the log's. `{ redact: false }` turns redaction off for the type.
   */
  types?: Readonly<Record<string, PrivacyRules>>;
}

interface CompiledRules {
  ip: { ipv4Prefix: number; ipv6Prefix: number } | null;
  redactor: Redactor | null;
}

/** Applies a log's write-time privacy to a validated event; `undefined` when the log has none. @internal */
export type WritePrivacy = (event: NormalizedEvent) => NormalizedEvent;

/**
 * Checks and compiles `privacy` once per log (a bad rule is a `TypeError` at construction) and
 * returns the function the write path runs on every validated event, or `undefined` when there is
 * nothing to do, so a log without privacy rules pays nothing. @internal
 */
export function createWritePrivacy(options: PrivacyOptions | undefined, registry: Registry): WritePrivacy | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new TypeError('privacy must be an object.');
  const base = compile(options, 'privacy', { ip: null, redactor: null });
  const byType = new Map<string, CompiledRules>();
  if (options.types !== undefined) {
    if (typeof options.types !== 'object' || options.types === null) throw new TypeError('privacy.types must be an object.');
    for (const [name, rules] of Object.entries(options.types)) {
      if (registry.types.size > 0 && !registry.allowUnknownTypes && !registry.types.has(name)) {
        throw new TypeError(`privacy.types names "${name}", which is not a registered event type.`);
      }
      if (typeof rules !== 'object' || rules === null) throw new TypeError(`privacy.types["${name}"] must be an object.`);
      byType.set(name, compile(rules, `privacy.types["${name}"]`, base));
    }
  }
  const active = (rules: CompiledRules) => rules.ip !== null || rules.redactor !== null;
  if (!active(base) && ![...byType.values()].some(active)) return undefined;

  return (event) => {
    const rules = byType.get(event.row.type as string) ?? base;
    const { row } = event;
    if (rules.ip && typeof row.ip === 'string' && row.ip !== '') row.ip = maskWith(row.ip, rules.ip.ipv4Prefix, rules.ip.ipv6Prefix);
    const redactor = rules.redactor;
    if (!redactor) return event;
    const { whole, patternFields, marker } = redactor;
    if (typeof row.message === 'string') {
      row.message = whole.has('message') ? marker : patternFields.has('message') ? redactor.text(row.message) : row.message;
    }
    if (typeof row.user_agent === 'string') {
      row.user_agent = whole.has('userAgent') ? marker : patternFields.has('userAgent') ? redactor.text(row.user_agent) : row.user_agent;
    }
    if (whole.has('actor.name') && row.actor_name !== null && row.actor_name !== undefined) row.actor_name = marker;
    if (whole.has('target.name') && row.target_name !== null && row.target_name !== undefined) row.target_name = marker;
    if (!redactor.touchesData || event.data === undefined) return event;
    const data = redactor.data(event.data);
    if (data === event.data) return event;
    row.data = JSON.stringify(data);
    return { row, data };
  };
}

function compile(rules: PrivacyRules, path: string, inherited: CompiledRules): CompiledRules {
  const known = new Set(['maskIp', 'redact', ...(path === 'privacy' ? ['types'] : [])]);
  for (const key of Object.keys(rules)) if (!known.has(key)) throw new TypeError(`${path} has no option "${key}".`);
  let ip = inherited.ip;
  if (rules.maskIp !== undefined) {
    if (rules.maskIp === false) ip = null;
    else if (rules.maskIp === true || (typeof rules.maskIp === 'object' && rules.maskIp !== null)) {
      ip = resolveIpMask(rules.maskIp, `${path}.maskIp`);
    } else throw new TypeError(`${path}.maskIp must be true, false or { ipv4Prefix, ipv6Prefix }.`);
  }
  let redactor = inherited.redactor;
  if (rules.redact !== undefined) {
    if (rules.redact === false) redactor = null;
    else redactor = createRedactor(rules.redact === true ? DEFAULT_REDACT_OPTIONS : rules.redact, `${path}.redact`);
  }
  return { ip, redactor };
}
