import { type KeyObject, sign, verify } from 'node:crypto';

/** Version tag of the checkpoint body. */
export const CHECKPOINT_FORMAT = 'eventlog-checkpoint/1';

/**
 * A sealed segment of one tenant's chain, as stored and exported (JSON). The signature covers every
 * other field: the Ed25519 signature of `JSON.stringify` of the checkpoint without `signature`, keys
 * in code-unit order.
 */
export interface Checkpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** The tenant whose chain this is (`null`: events without a tenant). */
  readonly tenantId: string | null;
  /** First and last chain position of the segment (inclusive). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** Number of events in the segment (`lastSeq - firstSeq + 1`). */
  readonly count: number;
  /** The link hash before the segment (the previous segment's `lastHash`, or 64 zeros). */
  readonly prevHash: string;
  /** The link hash of the segment's last event. */
  readonly lastHash: string;
  /** Merkle root over the segment's link hashes in chain order. */
  readonly merkleRoot: string;
  /** Earliest and latest event `time` in the segment (epoch ms). */
  readonly firstTime: number;
  readonly lastTime: number;
  /** Lowest and highest event id in the segment. */
  readonly firstId: number;
  readonly lastId: number;
  /** When the segment was sealed (epoch ms). */
  readonly sealedAt: number;
  /** Which key signed it (first 16 hex digits of the SHA-256 of the public key's DER form), or null when unsigned. */
  readonly keyId: string | null;
  /** Ed25519 signature (base64) over every other field (see above), or null when unsigned. */
  readonly signature: string | null;
}

/** The bytes a checkpoint's signature covers: every field but `signature`, as JSON with sorted keys. @internal */
export function checkpointPayload(checkpoint: Checkpoint): Buffer {
  const { signature: _signature, ...fields } = checkpoint;
  const keys = Object.keys(fields).sort();
  return Buffer.from(JSON.stringify(fields, keys));
}

/** Signs a checkpoint body with an Ed25519 key (or leaves it unsigned without one). @internal */
export function signCheckpoint(body: Omit<Checkpoint, 'signature'>, key: KeyObject | null): Checkpoint {
  const unsigned: Checkpoint = { ...body, signature: null };
  if (!key) return unsigned;
  return { ...body, signature: sign(null, checkpointPayload(unsigned), key).toString('base64') };
}

/** Whether a checkpoint's signature is valid under `publicKey`. @internal */
export function checkSignature(checkpoint: Checkpoint, publicKey: KeyObject): boolean {
  if (typeof checkpoint.signature !== 'string') return false;
  try {
    return verify(null, checkpointPayload(checkpoint), publicKey, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Reads a stored or exported checkpoint; null when it is not one. @internal */
export function parseCheckpoint(value: unknown): Checkpoint | null {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (!v || typeof v !== 'object') return null;
  const c = v as Record<string, unknown>;
  const ints = ['firstSeq', 'lastSeq', 'count', 'firstTime', 'lastTime', 'firstId', 'lastId', 'sealedAt'];
  const hashes = ['prevHash', 'lastHash', 'merkleRoot'];
  if (c.format !== CHECKPOINT_FORMAT) return null;
  if (!(c.tenantId === null || typeof c.tenantId === 'string')) return null;
  if (!ints.every((k) => Number.isSafeInteger(c[k]))) return null;
  if (!hashes.every((k) => typeof c[k] === 'string' && /^[0-9a-f]{64}$/.test(c[k] as string))) return null;
  if (!(c.keyId === null || typeof c.keyId === 'string') || !(c.signature === null || typeof c.signature === 'string')) return null;
  return c as unknown as Checkpoint;
}

/** The key under which a tenant's checkpoints are stored. @internal */
export function tenantKeyOf(tenantId: string | null): string {
  return JSON.stringify(tenantId);
}
