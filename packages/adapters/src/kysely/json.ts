const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const NUL = /\0/g;
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
const NUL_ESCAPE = /\\u0000/;

/**
 * Serialised JSON that an engine's JSON type accepts: unpaired surrogates (which `JSON.stringify`
 * writes as `\udXXX` escapes and MariaDB/PostgreSQL reject) and, with `nul`, U+0000 become U+FFFD.
 * Only JSON holding such an escape is parsed and re-encoded: parsing is the only way to tell an
 * escape from an escaped backslash followed by `u`.
 */
export function wellFormedJson(json: string, options: { nul: boolean }): string {
  if (!json.includes('\\u')) return json;
  if (!SURROGATE_ESCAPE.test(json) && !(options.nul && NUL_ESCAPE.test(json))) return json;
  try {
    return JSON.stringify(clean(JSON.parse(json), options.nul));
  } catch {
    return json; // not JSON after all: let the server report it
  }
}

/** A string with unpaired surrogates (and, with `nul`, U+0000) replaced by U+FFFD. */
export function wellFormedText(value: string, nul: boolean): string {
  const text = nul && value.includes('\0') ? value.replace(NUL, '\ufffd') : value;
  return text.replace(LONE_SURROGATE, '\ufffd');
}

function clean(value: unknown, nul: boolean): unknown {
  if (typeof value === 'string') return wellFormedText(value, nul);
  if (Array.isArray(value)) return value.map((v) => clean(v, nul));
  if (value !== null && typeof value === 'object') {
    // A null-prototype object: on `{}`, assigning the key `__proto__` would set the prototype and
    // drop the key from the payload (JSON.parse, by contrast, creates it as an own property).
    const out: Record<string, unknown> = Object.create(null);
    for (const [k, v] of Object.entries(value)) out[wellFormedText(k, nul)] = clean(v, nul);
    return out;
  }
  return value;
}

/**
 * JSON text in the compact form `JSON.stringify` writes. Engines that keep JSON in a binary form
 * (PostgreSQL `jsonb`, MySQL 8 `JSON`) print it with spaces after `:` and `,`; reads return the
 * compact form so that every engine hands the core the same text (a CSV export of `data` says what
 * `query()` says).
 */
export function compactJson(json: string): string {
  return JSON.stringify(JSON.parse(json));
}
