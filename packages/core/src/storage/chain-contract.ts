import type { Condition, EventRow, StoredRow } from './contract.js';

/** The newest link of one tenant's chain: its position and hash. */
export interface ChainTail {
  /** Position in the tenant's chain, from 1. */
  readonly seq: number;
  /** The link hash stored in the row at `seq` (64 lowercase hex digits). */
  readonly hash: string;
}

/**
 * Builds the chained rows of a batch from the tails read under the chain lock: the same rows in the
 * same order, chained ones with `chain_seq` and `chain_hash` set. Synchronous, so a store may call
 * it inside a synchronous transaction.
 */
export type ChainLinker = (tails: ReadonlyMap<string | null, ChainTail | null>) => readonly EventRow[];

/** Input of {@link ChainStore.rows}: chained rows of one tenant by position. */
export interface ChainRowsQuery {
  /** The tenant (`null`: rows whose `tenant_id` IS NULL). */
  readonly tenantId: string | null;
  /** Only rows with `chain_seq` greater than this. */
  readonly afterSeq: number;
  /** Only rows with `chain_seq` at most this, when given. */
  readonly toSeq?: number;
  readonly limit: number;
  /** Only `id`, `time`, `tenant_id`, `chain_seq` and `chain_hash` are needed (sealing). */
  readonly linksOnly?: boolean;
}

/** Input of {@link ChainStore.unchained}: rows of one tenant that carry no chain position. */
export interface UnchainedRowsQuery {
  readonly tenantId: string | null;
  /** Only rows with `id` greater than this, in `id` order. */
  readonly afterId: number;
  /** Further conditions (AND), e.g. the chained event types. */
  readonly where: readonly Condition[];
  readonly limit: number;
}

/** A stored checkpoint: the columns a store indexes, and the signed body as JSON text. */
export interface CheckpointRecord {
  /** `JSON.stringify(tenantId)`: `null` or a JSON string, so the null tenant has a key of its own. */
  readonly tenantKey: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The checkpoint JSON exactly as exported (see `Checkpoint` in `@eventlog/core`). */
  readonly body: string;
}

/**
 * The chain members of a store (tamper evidence): a store that has them declares it by having
 * `chain`; the core refuses `integrity` options on a store without it.
 */
export interface ChainStore {
  /**
   * Inserts `rows` like {@link EventStore.insert}, chained: MUST exclude every other append to the
   * same tenants (in this process and in others) from reading the tails until this batch is
   * committed, MUST read each tenant's tail (the row with the highest `chain_seq`) after taking that
   * exclusion, MUST call `link` exactly once with them and MUST insert what it returns, atomically.
   */
  append(rows: readonly EventRow[], tenants: readonly (string | null)[], link: ChainLinker): Promise<number[]>;
  /** The newest link of a tenant's chain, or null when it has none. */
  tail(tenantId: string | null): Promise<ChainTail | null>;
  /**
   * Chained rows of a tenant in `(chain_seq, id)` order. With `linksOnly` a store MAY return only
   * the columns named there; otherwise every column, numbers as JS numbers and JSON columns as JSON
   * text (as {@link EventStore.find} returns them).
   */
  rows(query: ChainRowsQuery): Promise<StoredRow[]>;
  /** Rows of a tenant with `chain_seq` NULL in `id` order, shaped as in {@link ChainStore.rows}. */
  unchained(query: UnchainedRowsQuery): Promise<StoredRow[]>;
  /** Stores a checkpoint; MUST resolve false (and change nothing) when one with the same tenant and `firstSeq` exists. */
  saveCheckpoint(record: CheckpointRecord): Promise<boolean>;
  /** Checkpoints of a tenant with `firstSeq` greater than `afterSeq`, by `firstSeq`. */
  checkpoints(query: { readonly tenantKey: string; readonly afterSeq: number; readonly limit: number }): Promise<CheckpointRecord[]>;
  /** The checkpoint with the highest `firstSeq` of a tenant, or null. */
  lastCheckpoint(tenantKey: string): Promise<CheckpointRecord | null>;
  /** Tenant keys that have checkpoints, in key order, after `afterKey`. */
  checkpointTenants(query: { readonly afterKey?: string; readonly limit: number }): Promise<string[]>;
}
