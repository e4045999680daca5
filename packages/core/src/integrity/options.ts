import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { EventRow } from '../storage/contract.js';

/** Which events are chained: every event, or those of the listed types or categories (either matches). */
export type ChainSelection = true | { readonly types?: readonly string[]; readonly categories?: readonly string[] };

/** When the chain is sealed into a signed checkpoint. */
export interface SegmentOptions {
  /** Seal a segment once it holds this many events. @default 1000 */
  maxEvents?: number;
  /** Seal the unsealed events of a tenant once the oldest is this old (checked once a minute at most). @default 3600000 */
  maxAgeMs?: number;
}

/**
 * Tamper evidence (`createEventLog({ integrity })`): per-tenant hash chains over the stored rows,
 * sealed into checkpoints signed with an Ed25519 key. See docs/guide.md, "Tamper evidence".
 *
 * @example
 * ```ts
 * import { generateKeyPairSync } from 'node:crypto';
 * import type { IntegrityOptions } from '@eventlog/core';
 * const { privateKey } = generateKeyPairSync('ed25519');
 * const integrity: IntegrityOptions = { chain: { categories: ['audit'] }, key: privateKey, segment: { maxEvents: 500 } };
 * ```
 */
export interface IntegrityOptions {
  /** Which events are chained. */
  chain: ChainSelection;
  /**
   * The Ed25519 private key that signs checkpoints (a `KeyObject` or PEM text). Without it
   * checkpoints are unsigned, and anyone with database access can rewrite a sealed segment
   * unnoticed unless its checkpoint was anchored elsewhere. @default none
   */
  key?: KeyObject | string;
  /**
   * The Ed25519 public key checkpoints are verified with, for a process that verifies but does not
   * sign. @default derived from `key`
   */
  publicKey?: KeyObject | string;
  /** When segments are sealed. */
  segment?: SegmentOptions;
  /**
   * Paths into `data` (`user.email` or `data.user.email`) that field expiry may drop; each gets a
   * commitment of its own, so a chained event that lost them still verifies (reported as expired).
   * The fields of the log's `expireData` policies are added. Removing all of `data` needs nothing.
   * @default []
   */
  expirableFields?: readonly string[];
  /** Writes links in an older format (1: `data` hashed itself), for testing that old chains verify. @internal */
  format?: 1 | 2;
}

/** Integrity options with defaults filled in and keys parsed. @internal */
export interface ResolvedIntegrity {
  readonly isChained: (row: EventRow) => boolean;
  readonly privateKey: KeyObject | null;
  readonly publicKey: KeyObject | null;
  readonly keyId: string | null;
  readonly maxEvents: number;
  readonly maxAgeMs: number;
  readonly expirableFields: readonly string[];
  readonly format: 1 | 2;
}

/** Checks and fills in {@link IntegrityOptions}; throws a `TypeError` naming the bad option. @internal */
export function resolveIntegrity(options: IntegrityOptions): ResolvedIntegrity {
  const chain = options.chain;
  let isChained: (row: EventRow) => boolean;
  if (chain === true) isChained = () => true;
  else if (chain && typeof chain === 'object') {
    const types = new Set(chain.types ?? []);
    const categories = new Set(chain.categories ?? []);
    if (types.size === 0 && categories.size === 0)
      throw new TypeError('integrity.chain lists no types and no categories: nothing would be chained.');
    isChained = (row) => types.has(row.type as string) || (typeof row.category === 'string' && categories.has(row.category));
  } else throw new TypeError('integrity.chain must be true or { types?, categories? }.');
  const maxEvents = options.segment?.maxEvents ?? 1000;
  const maxAgeMs = options.segment?.maxAgeMs ?? 3_600_000;
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) throw new TypeError('integrity.segment.maxEvents must be a positive integer.');
  if (!Number.isFinite(maxAgeMs) || maxAgeMs < 1)
    throw new TypeError('integrity.segment.maxAgeMs must be a positive number of milliseconds.');
  const privateKey = options.key === undefined ? null : typeof options.key === 'string' ? createPrivateKey(options.key) : options.key;
  if (privateKey && (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519')) {
    throw new TypeError('integrity.key must be an Ed25519 private key.');
  }
  let publicKey: KeyObject | null = null;
  if (options.publicKey !== undefined)
    publicKey = typeof options.publicKey === 'string' ? createPublicKey(options.publicKey) : options.publicKey;
  else if (privateKey) publicKey = createPublicKey(privateKey);
  if (publicKey && (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519')) {
    throw new TypeError('integrity.publicKey must be an Ed25519 public key.');
  }
  const expirableFields = (options.expirableFields ?? []).map((field) => {
    const path = typeof field === 'string' ? field.replace(/^data\./, '') : '';
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(path))
      throw new TypeError('integrity.expirableFields must list paths into data such as "user.email".');
    return path;
  });
  const format = options.format ?? 2;
  if (format !== 1 && format !== 2) throw new TypeError('integrity.format must be 1 or 2.');
  return { isChained, privateKey, publicKey, keyId: publicKey ? keyIdOf(publicKey) : null, maxEvents, maxAgeMs, expirableFields, format };
}

/** A short, stable name of a public key: the first 16 hex digits of the SHA-256 of its DER form. @internal */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}
