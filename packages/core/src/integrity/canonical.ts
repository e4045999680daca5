import { hash } from 'node:crypto';
import type { ColumnType } from '../schema/fields.js';

/** Version tag of the link serialisation; a future format gets a new tag and keeps verifying old rows. */
export const CHAIN_FORMAT = 'eventlog-chain/1';

/** The `prev` of a chain's first link: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** Columns the chain itself owns: never part of the hashed content. */
export const CHAIN_COLUMNS = ['chain_seq', 'chain_hash'] as const;

/** Columns left out of the hashed content: the store-assigned id and the chain's own columns. */
const EXCLUDED = new Set<string>(['id', ...CHAIN_COLUMNS]);

/** Column name → type, for the columns a row's hash covers. @internal */
export type HashedColumns = readonly { readonly name: string; readonly type: ColumnType; readonly key: string }[];

/** The columns a link covers, in hashing (code-unit) order. @internal */
export function hashedColumns(columns: readonly { readonly name: string; readonly type: ColumnType }[]): HashedColumns {
  return columns
    .filter((c) => !EXCLUDED.has(c.name))
    .map((c) => ({ name: c.name, type: c.type, key: `${JSON.stringify(c.name)}:` }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A string as every engine gives it back: U+0000 as U+FFFD (PostgreSQL cannot store U+0000 and its
 * store replaces it). Lone surrogates need nothing here: the core stores well-formed text only, no
 * driver returns anything else, and hashing encodes the text as UTF-8 anyway.
 */
function canonicalString(value: string): string {
  return value.includes('\0') ? value.replace(/\0/g, '\ufffd') : value;
}

/** JSON with object keys in code-unit order, strings canonical, no whitespace. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'string') return JSON.stringify(canonicalString(value));
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  if (typeof value === 'object') {
    const keys = Object.keys(value as object).sort();
    let out = '{';
    let first = true;
    for (const key of keys) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) continue;
      out += `${first ? '' : ','}${JSON.stringify(canonicalString(key))}:${canonicalJson(v)}`;
      first = false;
    }
    return `${out}}`;
  }
  return 'null';
}

/** One column's value in canonical form, or undefined for SQL NULL (left out, so added columns keep old hashes valid). */
function canonicalValue(value: unknown, type: ColumnType): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (type) {
    case 'integer':
    case 'float': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? String(n) : JSON.stringify(String(value));
    }
    case 'json': {
      // JSON text is parsed so that engines that reorder keys or reformat numbers (jsonb, MySQL JSON) hash alike.
      if (typeof value !== 'string') return canonicalJson(value);
      try {
        return canonicalJson(JSON.parse(value));
      } catch {
        return JSON.stringify(`!invalid-json:${canonicalString(value)}`);
      }
    }
    default:
      return JSON.stringify(canonicalString(typeof value === 'string' ? value : String(value)));
  }
}

/**
 * The canonical serialisation of a row's content (version {@link CHAIN_FORMAT}): a JSON object of
 * the hashed columns in code-unit order, NULL columns left out, numbers as `JSON.stringify` writes
 * them, strings with U+0000 as U+FFFD, JSON columns parsed and written with sorted keys.
 * @internal
 */
export function canonicalRow(row: Readonly<Record<string, unknown>>, columns: HashedColumns): string {
  let out = '{';
  let first = true;
  for (const column of columns) {
    const value = canonicalValue(row[column.name], column.type);
    if (value === undefined) continue;
    out += `${first ? '' : ','}${column.key}${value}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The link hash of a row: SHA-256 (hex) of `eventlog-chain/1`, a newline, the JSON array
 * `[tenantId, seq, prevHash]` (tenant `null` for the null tenant), a newline and the canonical row.
 * @internal
 */
export function linkHash(tenantId: string | null, seq: number, prevHash: string, canonical: string): string {
  const tenant = tenantId === null ? 'null' : JSON.stringify(tenantId);
  return hash('sha256', `${CHAIN_FORMAT}\n[${tenant},${seq},"${prevHash}"]\n${canonical}`, 'hex');
}
