import { hash } from 'node:crypto';
import type { ColumnType } from '../schema/fields.js';

/**
 * Version tags of the link serialisation; each format keeps verifying the rows written with it.
 * Version 1 hashes `data` itself; version 2 hashes the row without `data` and with its data
 * commitment (`chain_data`, see commitment.ts), so expiring `data` keeps the link valid. A row's
 * version is told by `chain_data`: NULL for version 1 rows (the column did not exist then).
 */
export const CHAIN_FORMAT_V1 = 'eventlog-chain/1';
export const CHAIN_FORMAT = 'eventlog-chain/2';
export type ChainFormat = typeof CHAIN_FORMAT_V1 | typeof CHAIN_FORMAT;

/** The `prev` of a chain's first link: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** Columns the chain itself owns: never part of the hashed content. */
export const CHAIN_COLUMNS = ['chain_seq', 'chain_hash'] as const;

/** Columns left out of the hashed content: the store-assigned id and the chain's own columns. */
const EXCLUDED = new Set<string>(['id', ...CHAIN_COLUMNS]);

/** Column name → type, for the columns a row's hash covers. @internal */
export type HashedColumns = readonly { readonly name: string; readonly type: ColumnType }[];

/** The columns a version 1 link covers, in hashing (code-unit) order. @internal */
export function hashedColumns(columns: readonly { readonly name: string; readonly type: ColumnType }[]): HashedColumns {
  return columns
    .filter((c) => !EXCLUDED.has(c.name))
    .map((c) => ({ name: c.name, type: c.type }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A string as every engine gives it back: U+0000 as U+FFFD (PostgreSQL cannot store U+0000 and its
 * store replaces it). Lone surrogates need nothing here: the core stores well-formed text only, no
 * driver returns anything else, and hashing encodes the text as UTF-8 anyway.
 */
function canonicalString(value: string): string {
  return value.indexOf('\0') === -1 ? value : value.replace(/\0/g, '\ufffd');
}

/**
 * A JSON value rebuilt for `JSON.stringify` (native, and much faster than writing JSON by hand):
 * strings canonical, object keys inserted in code-unit order. JavaScript lists array-index keys
 * ("0", "17") first in numeric order whatever the insertion order, so those come first.
 * @internal
 */
export function sortedValue(value: unknown): unknown {
  if (typeof value === 'string') return canonicalString(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortedValue);
  // No prototype: a "__proto__" key in the payload stays an ordinary key.
  const out: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value).sort()) out[canonicalString(key)] = sortedValue((value as Record<string, unknown>)[key]);
  return out;
}

/** Whether JavaScript lists `key` among an object's array-index keys (first, in numeric order). */
function isArrayIndex(key: string): boolean {
  // Most keys do not start with a digit: those are never indexes, and need no number conversion.
  const first = key.charCodeAt(0);
  if (!(first >= 48 && first <= 57)) return false;
  const n = Number(key);
  return n >>> 0 === n && n !== 4294967295 && String(n) === key;
}

/**
 * `JSON.stringify(sortedValue(value))`, written directly: no rebuilt objects (prototype-less objects
 * are slow to stringify, and the copies are garbage on the write path). Undefined for what
 * `JSON.stringify` leaves out. An object with a U+0000 in a key takes the rebuilding path, where
 * two keys that become equal keep JavaScript's assignment semantics.
 * @internal
 */
export function canonicalJson(value: unknown): string | undefined {
  if (typeof value === 'string') return JSON.stringify(canonicalString(value));
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]) ?? 'null';
    }
    return `${out}]`;
  }
  const keys = Object.keys(value).sort();
  // One pass: does any key hold U+0000 (the rebuilding path), or is any an array index (reordered)?
  let indexes = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key.indexOf('\0') !== -1) return JSON.stringify(sortedValue(value));
    if (isArrayIndex(key)) indexes++;
  }
  const ordered =
    indexes === 0 ? keys : [...keys.filter(isArrayIndex).sort((a, b) => Number(a) - Number(b)), ...keys.filter((k) => !isArrayIndex(k))];
  let out = '{';
  for (let i = 0; i < ordered.length; i++) {
    const key = ordered[i] as string;
    const text = canonicalJson((value as Record<string, unknown>)[key]);
    if (text === undefined) continue;
    if (out.length > 1) out += ',';
    out += JSON.stringify(key);
    out += ':';
    out += text;
  }
  return `${out}}`;
}

/** One column's value as canonical JSON text, or undefined for SQL NULL (left out, so added columns keep old hashes valid). */
function canonicalValue(value: unknown, type: ColumnType): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case 'integer':
    case 'float': {
      // A finite number's JSON is its string form (both are Number::toString).
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      const n = typeof value === 'number' ? value : Number(value);
      return JSON.stringify(Number.isFinite(n) ? n : String(value));
    }
    case 'json': {
      // JSON text is parsed so that engines that reorder keys or reformat numbers (jsonb, MySQL JSON) hash alike.
      if (typeof value !== 'string') return canonicalJson(value);
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return JSON.stringify(`!invalid-json:${canonicalString(value)}`);
      }
      return canonicalJson(parsed);
    }
    default:
      return JSON.stringify(canonicalString(typeof value === 'string' ? value : String(value)));
  }
}

/** The columns a version 2 link covers: those of version 1 without `data` (its commitment `chain_data` stands for it). @internal */
export function commitmentColumns(columns: HashedColumns): HashedColumns {
  return columns.filter((c) => c.name !== 'data');
}

/**
 * The canonical serialisation of a row's content (both versions, over their columns): `JSON.stringify`
 * of an object holding the hashed columns in code-unit order, SQL NULL columns left out, numbers as
 * numbers, strings with U+0000 as U+FFFD, JSON columns parsed and rebuilt with their object keys in
 * code-unit order (array-index keys first, in numeric order, as JavaScript lists them).
 * @internal
 */
export function canonicalRow(row: Readonly<Record<string, unknown>>, columns: HashedColumns): string {
  // Written as JSON.stringify writes an object of these columns in this order (names are never array indexes).
  const names = columnKeys(columns);
  let out = '{';
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i] as HashedColumns[number];
    const text = canonicalValue(row[column.name], column.type);
    if (text === undefined) continue;
    if (out.length > 1) out += ',';
    out += names[i] as string;
    out += text;
  }
  return `${out}}`;
}

/** The `"name":` prefix of each column, written once per column list (the lists live as long as their log). */
const keysOf = new WeakMap<HashedColumns, readonly string[]>();

function columnKeys(columns: HashedColumns): readonly string[] {
  let keys = keysOf.get(columns);
  if (!keys) {
    keys = columns.map((c) => `${JSON.stringify(c.name)}:`);
    keysOf.set(columns, keys);
  }
  return keys;
}

/**
 * The link hash of a row: SHA-256 (hex) of the format tag, a newline, the JSON array
 * `[tenantId, seq, prevHash]` (tenant `null` for the null tenant), a newline and the canonical row.
 * @internal
 */
export function linkHash(
  tenantId: string | null,
  seq: number,
  prevHash: string,
  canonical: string,
  format: ChainFormat = CHAIN_FORMAT,
): string {
  const tenant = tenantId === null ? 'null' : JSON.stringify(tenantId);
  return hash('sha256', `${format}\n[${tenant},${seq},"${prevHash}"]\n${canonical}`, 'hex');
}
