/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * Key names that commonly hold secrets or personal data, offered for `privacy.redact.keys`
 * (nothing is redacted unless a log opts in). Keys match case-insensitively and ignoring `_`, `-`
 * and spaces, so `api_key` also covers `apiKey` and `API-KEY`; a key must match whole (`token`
 * does not cover `prompt_tokens`).
 */
export const DEFAULT_REDACT_KEYS = Object.freeze([
  'authorization',
  'proxy_authorization',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'api_key',
  'x_api_key',
  'private_key',
  'cookie',
  'set_cookie',
  'email',
  'credit_card',
  'card_number',
  'cvv',
  'ssn',
] as const);

/**
 * Patterns for free text (`message`, `userAgent`), offered for `privacy.redact.patterns`: e-mail
 * addresses, `Bearer` and `Basic` credentials, JSON Web Tokens, `sk-…` API keys, the password
 * in a URL's user info, and the values of `password=`, `token=`, `api_key=` and similar query or
 * `key=value` parameters (the parameter name is kept, only its value is replaced).
 */
export const DEFAULT_REDACT_PATTERNS: readonly RegExp[] = Object.freeze([
  // Before the e-mail pattern, which would otherwise take `password@host` and lose the host.
  /(?<=[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+(?=@)/gi,
  /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
  /(?<=\bBearer\s+)[A-Za-z0-9\-._~+/]{8,}=*/gi,
  // A Basic credential is base64: asking for a digit, `+`, `/` or padding spares prose like "Basic authentication".
  /(?<=\bBasic\s+)(?=[A-Za-z0-9+/]*[0-9+/=])[A-Za-z0-9+/]{8,}=*/g,
  /\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
  /(?<=(?:^|[^A-Za-z0-9_-])(?:password|passwd|pwd|pass|passphrase|secret|client_secret|token|access_token|refresh_token|id_token|api_key|apikey|api-key|auth|key|sig|signature|session|sessionid|sid)=)[^&\s#;,"']+/gi,
]);

/** Text fields the redaction patterns can be applied to; `data` means every string value inside it. */
export const REDACT_PATTERN_FIELDS = Object.freeze(['message', 'userAgent', 'data'] as const);

/** One of {@link REDACT_PATTERN_FIELDS}. */
export type RedactPatternField = (typeof REDACT_PATTERN_FIELDS)[number];

/** Event fields a redaction path may name whole, besides `data` and paths into it. */
const WHOLE_FIELDS = Object.freeze(['message', 'userAgent', 'actor.name', 'target.name'] as const);

/** An event field that a path can replace as a whole. @internal */
export type WholeField = (typeof WHOLE_FIELDS)[number];

/** Redaction rules applied when an event is written; every list is empty unless given. */
export interface RedactOptions {
  /**
   * Key names whose values are replaced wherever they occur in `data`, at any depth (see
   * {@link DEFAULT_REDACT_KEYS} for matching). @default []
   */
  keys?: readonly string[];
  /**
   * Dotted paths whose values are replaced: `data.user.email`, `data.items.*.token` (`*` matches
   * any one key or array index), `data` for the whole payload, or a whole text field: `message`,
   * `userAgent`, `actor.name`, `target.name`. @default []
   */
  paths?: readonly string[];
  /** Regular expressions whose matches are replaced in the fields of `patternFields`. @default [] */
  patterns?: readonly RegExp[];
  /** Where `patterns` apply. @default ['message', 'userAgent'] */
  patternFields?: readonly RedactPatternField[];
  /** What replaces a redacted value or match. @default '[REDACTED]' */
  marker?: string;
}

/** Compiled redaction rules. @internal */
export interface Redactor {
  readonly marker: string;
  /** Fields replaced whole. */
  readonly whole: ReadonlySet<WholeField>;
  /** Fields the patterns run over. */
  readonly patternFields: ReadonlySet<RedactPatternField>;
  /** Whether `data` can change at all. */
  readonly touchesData: boolean;
  /** Replaces pattern matches in a text. */
  text(value: string): string;
  /** Redacts a payload; returns the same reference when nothing was redacted, never mutating the input. */
  data(value: unknown): unknown;
}

interface PathNode {
  terminal: boolean;
  children: Map<string, PathNode>;
}

const normalizeKey = (key: string) => key.toLowerCase().replace(/[-_\s]/g, '');

/** The full rule set offered by `redact: true`. @internal */
export const DEFAULT_REDACT_OPTIONS: RedactOptions = Object.freeze({ keys: DEFAULT_REDACT_KEYS, patterns: DEFAULT_REDACT_PATTERNS });

/** Checks and compiles redaction rules; malformed rules are a `TypeError` at construction. @internal */
export function createRedactor(options: RedactOptions, path = 'privacy.redact'): Redactor {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${path} must be true, false or an object.`);
  const marker = options.marker ?? REDACTED;
  if (typeof marker !== 'string') throw new TypeError(`${path}.marker must be a string.`);
  const keys = new Set<string>();
  for (const key of list(options.keys, `${path}.keys`)) {
    if (typeof key !== 'string' || normalizeKey(key) === '') throw new TypeError(`${path}.keys must hold non-empty strings.`);
    keys.add(normalizeKey(key));
  }
  const whole = new Set<WholeField>();
  const root: PathNode = { terminal: false, children: new Map() };
  for (const fieldPath of list(options.paths, `${path}.paths`)) {
    if (typeof fieldPath !== 'string') throw new TypeError(`${path}.paths must hold strings.`);
    if ((WHOLE_FIELDS as readonly string[]).includes(fieldPath)) {
      whole.add(fieldPath as WholeField);
      continue;
    }
    const segments = fieldPath.split('.');
    if (segments[0] !== 'data' || segments.some((s) => s === '')) {
      throw new TypeError(
        `${path}.paths: "${fieldPath}" must be "data", a dotted path into it such as "data.user.email", or one of ${WHOLE_FIELDS.join(', ')}.`,
      );
    }
    let node = root;
    for (const segment of segments.slice(1)) {
      let next = node.children.get(segment);
      if (!next) {
        next = { terminal: false, children: new Map() };
        node.children.set(segment, next);
      }
      node = next;
    }
    node.terminal = true;
  }
  const patterns = list(options.patterns, `${path}.patterns`).map((pattern) => {
    if (!(pattern instanceof RegExp)) throw new TypeError(`${path}.patterns must hold regular expressions.`);
    // A private global copy: `replace` then finds every match, and the caller's object keeps its lastIndex.
    return new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
  });
  const fields = new Set<RedactPatternField>();
  for (const field of list(options.patternFields ?? ['message', 'userAgent'], `${path}.patternFields`)) {
    if (!(REDACT_PATTERN_FIELDS as readonly string[]).includes(field as string)) {
      throw new TypeError(`${path}.patternFields may only name ${REDACT_PATTERN_FIELDS.join(', ')}.`);
    }
    if (patterns.length > 0) fields.add(field);
  }

  // An empty match would put the marker between every character; only non-empty matches are secrets.
  const replace = (match: string) => (match === '' ? match : marker);
  const text = (value: string): string => {
    let result = value;
    for (const pattern of patterns) result = result.replace(pattern, replace);
    return result;
  };
  const scanStrings = fields.has('data');

  const walk = (value: unknown, nodes: readonly PathNode[]): unknown => {
    if (typeof value === 'string') return scanStrings ? text(value) : value;
    if (value === null || typeof value !== 'object') return value;
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      // Redact what JSON.stringify will store (a Date's string, a class's own JSON form).
      const json: unknown = toJSON.call(value);
      if (json === value) return value;
      const walked = walk(json, nodes);
      return walked === json ? value : walked;
    }
    const childNodes = (key: string): PathNode[] => {
      const next: PathNode[] = [];
      for (const node of nodes) {
        const exact = node.children.get(key);
        if (exact) next.push(exact);
        const any = node.children.get('*');
        if (any) next.push(any);
      }
      return next;
    };
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const next = childNodes(String(i));
        const redacted = next.some((n) => n.terminal) && item !== null && item !== undefined ? marker : walk(item, next);
        if (redacted !== item) {
          copy ??= value.slice();
          copy[i] = redacted;
        }
      }
      return copy ?? value;
    }
    let copy: Record<string, unknown> | undefined;
    const source = value as Record<string, unknown>;
    for (const key of Object.keys(source)) {
      const item = source[key];
      const next = childNodes(key);
      const hit = keys.has(normalizeKey(key)) || next.some((n) => n.terminal);
      // A null or missing secret reveals nothing, and keeping it keeps "not set" visible.
      const redacted = hit && item !== null && item !== undefined ? marker : walk(item, next);
      if (redacted !== item) {
        copy ??= { ...source };
        copy[key] = redacted;
      }
    }
    return copy ?? value;
  };

  const wholeData = root.terminal;
  return {
    marker,
    whole,
    patternFields: fields,
    touchesData: keys.size > 0 || root.children.size > 0 || wholeData || scanStrings,
    text,
    data: (value) => {
      if (value === undefined) return value;
      if (wholeData) return value === null ? value : marker;
      return walk(value, [root]);
    },
  };
}

function list<T>(value: readonly T[] | undefined, path: string): readonly T[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${path} must be an array.`);
  return value;
}
