import { hash } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/**
 * The data commitment of a chained row (format `eventlog-chain/2`), stored as JSON text in the
 * `chain_data` column, which the link hash covers instead of `data` itself: `d` is the SHA-256 of
 * the canonical `data` with the expirable fields taken out, `f` (present when any expirable field
 * was in `data`) maps each such field's path to the SHA-256 of its canonical value. Expiring `data`
 * or a field later leaves the commitment, and so the chain, intact, and verify can tell "dropped"
 * (the value is gone, its commitment stays) from "changed" (a value that no longer matches).
 */
interface DataCommitment {
  readonly d: string;
  readonly f?: Readonly<Record<string, string>>;
}

const digest = (value: unknown) => hash('sha256', canonicalJson(value) ?? 'null', 'hex');

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at `path` and its parent object, or undefined when the path is not in `value`. */
function locate(value: unknown, path: readonly string[]): { parent: Json; key: string } | undefined {
  let node = value;
  for (let i = 0; i < path.length - 1; i++) {
    if (!isObject(node)) return undefined;
    node = node[path[i] as string];
  }
  const key = path[path.length - 1] as string;
  return isObject(node) && Object.hasOwn(node, key) ? { parent: node, key } : undefined;
}

/** Parses stored `data` text; undefined when it is not JSON. */
function parseData(text: unknown): { value: unknown } | undefined {
  if (text === null || text === undefined) return { value: null };
  if (typeof text !== 'string') return { value: text };
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * The commitment text of a row's `data` (JSON text or null), with `fields` (dot paths, sorted)
 * committed one by one. @internal
 */
export function commitData(data: unknown, fields: readonly string[]): string {
  const parsed = parseData(data);
  if (!parsed) return JSON.stringify({ d: hash('sha256', `!invalid-json:${String(data)}`, 'hex') });
  const value = parsed.value;
  let f: Record<string, string> | undefined;
  for (const field of fields) {
    const at = locate(value, field.split('.'));
    if (!at) continue;
    f ??= {};
    f[field] = digest(at.parent[at.key]);
    // The parse is this function's own copy, so the field can be taken out in place.
    delete at.parent[at.key];
  }
  return JSON.stringify(f ? { d: digest(value), f } : { d: digest(value) });
}

/** What a row's `data` is against its commitment. @internal */
export type DataCheck =
  | { readonly status: 'intact' }
  | { readonly status: 'modified' }
  | { readonly status: 'expired'; readonly fields: string[] | null };

const INTACT: DataCheck = { status: 'intact' };
const MODIFIED: DataCheck = { status: 'modified' };
const NULL_DIGEST = digest(null);

/**
 * Checks stored `data` against the commitment the link covers: `intact`, `expired` (all of `data`
 * dropped, `fields: null`, or the listed committed fields dropped, the rest intact) or `modified`.
 * @internal
 */
export function checkData(data: unknown, commitment: string): DataCheck {
  let committed: DataCommitment;
  try {
    committed = JSON.parse(commitment) as DataCommitment;
  } catch {
    return MODIFIED;
  }
  if (!isObject(committed) || typeof committed.d !== 'string') return MODIFIED;
  const parsed = parseData(data);
  if (!parsed) return MODIFIED;
  const value = parsed.value;
  if (value === null) {
    // A NULL payload that was NULL when written is intact; otherwise `data` was expired.
    return committed.d === NULL_DIGEST && !committed.f ? INTACT : { status: 'expired', fields: null };
  }
  const dropped: string[] = [];
  for (const [field, expected] of Object.entries(committed.f ?? {})) {
    const at = locate(value, field.split('.'));
    if (!at) {
      dropped.push(field);
      continue;
    }
    if (digest(at.parent[at.key]) !== expected) return MODIFIED;
    delete at.parent[at.key];
  }
  if (digest(value) !== committed.d) return MODIFIED;
  return dropped.length > 0 ? { status: 'expired', fields: dropped } : INTACT;
}
