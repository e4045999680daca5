/**
 * SQL text for ClickHouse. ClickHouse 18.16 has no server-side query parameters, so every value a
 * query carries is inlined as a literal built here, and nowhere else.
 */

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MIN_NORMAL = 2.2250738585072014e-308;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is escaped.
const SPECIAL = /[\\'\x00-\x1f\x7f]/g;
const NAMED: Readonly<Record<string, string>> = { '\\': '\\\\', "'": "\\'", '\0': '\\0', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Quotes a string as a ClickHouse string literal: backslash and single quote are escaped, and
 * control characters are written as escapes so a query stays one printable line.
 */
export function quoteString(value: string): string {
  return `'${value.replace(SPECIAL, escapeChar)}'`;
}

function escapeChar(c: string): string {
  // Any other control byte as \xHH, which ClickHouse reads back as that byte.
  return NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** A finite number as a ClickHouse numeric literal; anything else is a programming error. */
export function quoteNumber(value: number): string {
  if (!Number.isFinite(value)) throw new TypeError(`Cannot inline ${value} as a ClickHouse literal.`);
  // 18.16's SQL parser rejects subnormal literals such as 5e-324; a conversion from text parses
  // them everywhere (18.16 flushes them to 0, as it does when storing them).
  if (value !== 0 && Math.abs(value) < MIN_NORMAL) return `toFloat64('${String(value)}')`;
  // Negative literals in parentheses so `x - -1` style concatenation can never form a comment.
  return value < 0 ? `(${String(value)})` : String(value);
}

/**
 * Escapes the LIKE wildcards `%` and `_` and the escape character `\` in user text, so the result
 * matches literally inside a LIKE pattern. The pattern still has to be quoted with
 * {@link quoteString}, which doubles the backslashes once more for the string literal.
 */
export function escapeLike(term: string): string {
  return term.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Quotes an identifier (table or column) after checking it is a plain name. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new TypeError(`"${name}" is not a valid ClickHouse identifier (letters, digits and "_").`);
  return `\`${name}\``;
}

/** `database`.`table`, or just `table` without a database. */
export function qualified(database: string | undefined, table: string): string {
  return database ? `${quoteIdentifier(database)}.${quoteIdentifier(table)}` : quoteIdentifier(table);
}
