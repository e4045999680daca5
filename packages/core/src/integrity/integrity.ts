import { z } from 'zod';
import { parseInput } from '../core.js';
import { EventLogError } from '../errors.js';
import { normalizeTenant } from '../schema/tenant.js';
import type { ChainStore, ChainTail } from '../storage/chain-contract.js';
import type { Condition, EventRow, EventStore, StoreColumn, StoreSchema } from '../storage/contract.js';
import {
  CHAIN_FORMAT,
  CHAIN_FORMAT_V1,
  canonicalRow,
  commitmentColumns,
  GENESIS_HASH,
  type HashedColumns,
  hashedColumns,
  linkHash,
} from './canonical.js';
import { CHECKPOINT_FORMAT, type Checkpoint, parseCheckpoint, signCheckpoint, tenantKeyOf } from './checkpoint.js';
import { commitData } from './commitment.js';
import { merkleRoot } from './merkle.js';
import { type IntegrityOptions, type ResolvedIntegrity, resolveIntegrity } from './options.js';
import { type ChainedDeletion, planChainedDeletion } from './retention.js';
import { type ChainAnchor, type VerifyReport, verifyChain } from './verify.js';

/** Migration version of the chain columns and the checkpoints table. */
export const INTEGRITY_SCHEMA_VERSION = 3;

/** The newest sealed position of a tenant's chain that retention may delete up to (whole segments only). */
export interface SealedBoundary {
  readonly tenantId: string | null;
  /** Rows with `chain_seq` at most this are in sealed segments that ended before `before`. */
  readonly lastSeq: number;
  /** The highest event id in those segments. */
  readonly lastId: number;
  /** The latest event time in those segments. */
  readonly lastTime: number;
}

/** Input of `log.verify()`. */
export interface VerifyInput {
  /** The tenant whose chain is checked (`null`: events without a tenant). */
  tenantId: string | null;
  /** Check only sealed segments with events at or after this time (epoch ms); the unsealed tail is always checked. */
  since?: number;
  /** Check only sealed segments with events before this time (epoch ms). */
  until?: number;
  /** Heads (`log.integrity.head()`) and checkpoints (`exportCheckpoints()`) kept outside the database. */
  anchors?: readonly (ChainAnchor | Checkpoint)[];
}

/** `log.integrity`: sealing, heads and checkpoints of the hash chains. */
export interface IntegrityApi {
  /** Whether the log chains events (`integrity` option given). */
  readonly enabled: boolean;
  /** The newest link of a tenant's chain, to keep elsewhere as an anchor; null when the chain is empty. */
  head(tenantId: string | null): Promise<ChainAnchor | null>;
  /**
   * Seals what is due (full segments, and unsealed events older than `segment.maxAgeMs`) or, with
   * `force`, everything unsealed; resolves the checkpoints written.
   */
  seal(options?: { tenantId?: string | null; force?: boolean }): Promise<Checkpoint[]>;
  /** Checkpoints as JSON-ready objects, for anchoring elsewhere; one tenant's or every tenant's. */
  exportCheckpoints(options?: { tenantId?: string | null; afterSeq?: number; limit?: number }): Promise<Checkpoint[]>;
  /**
   * The end of the longest run of sealed segments whose events are all older than `before` (all of
   * them without `before`): what retention may delete while keeping the chain verifiable. Null when
   * no segment qualifies.
   */
  sealedUpTo(tenantId: string | null, options?: { before?: number }): Promise<SealedBoundary | null>;
}

/** What the integrity runtime needs from the log. @internal */
export interface IntegrityHost {
  readonly store: EventStore;
  readonly clock: () => number;
  /** The log's retention options: the fields its `expireData` policies drop get commitments of their own. */
  readonly retention?: { readonly policies?: readonly { readonly action?: string; readonly fields?: readonly string[] }[] } | undefined;
  report(error: unknown): void;
  /** Migrates the store (once). */
  ready(): Promise<void>;
}

/** The store schema with the chain columns and their index. @internal */
export function withChainSchema(schema: StoreSchema): StoreSchema {
  const columns: StoreColumn[] = [
    { name: 'chain_seq', type: 'integer', maxLength: undefined, nullable: true, kind: 'canonical' },
    { name: 'chain_hash', type: 'string', maxLength: 64, nullable: true, kind: 'canonical' },
    // The data commitment of format 2 links (NULL in format 1 rows); added like any new column.
    { name: 'chain_data', type: 'text', maxLength: undefined, nullable: true, kind: 'canonical' },
  ];
  return {
    version: Math.max(schema.version, INTEGRITY_SCHEMA_VERSION),
    columns: [...schema.columns.filter((c) => !columns.some((own) => own.name === c.name)), ...columns],
    indexes: [...schema.indexes, { name: 'chain', columns: ['tenant_id', 'chain_seq'] }],
  };
}

const HASH = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');
const TENANT = z.string().max(512).nullable().transform(normalizeTenant);
const TIME = z.number().int().min(0).max(8.64e15);

/** The input of `log.verify()`: anchors are chain heads or exported checkpoints. */
const verifyInputSchema = z.object({
  tenantId: TENANT,
  since: TIME.optional(),
  until: TIME.optional(),
  anchors: z
    .array(
      z.union([
        z.object({ tenantId: TENANT, seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER), hash: HASH }),
        z
          .object({ format: z.literal(CHECKPOINT_FORMAT) })
          .passthrough()
          .refine((value) => parseCheckpoint(value) !== null, 'is not a complete checkpoint'),
      ]),
    )
    .max(100_000)
    .default([]),
});

/** Rows prepared per slice while a chained append waits for its lock and tails. */
const PREPARE_SLICE = 64;

const unsupported = (what: string) =>
  new EventLogError('UNSUPPORTED', `${what}: this log was created without the integrity option, so it keeps no hash chain.`);

/** The integrity runtime of one log: the chained write path, sealing, and verification. @internal */
export class Integrity implements IntegrityApi {
  readonly enabled: boolean;
  readonly #settings: ResolvedIntegrity | null;
  readonly #host: IntegrityHost;
  #columns: HashedColumns = [];
  #committed: HashedColumns = [];
  /** Fields of `data` committed one by one (dot paths, sorted), so that expiring them keeps the rest verifiable. */
  readonly #expirable: readonly string[];
  /** Tenants with unsealed rows appended here, and when the first of them was appended. */
  readonly #unsealedSince = new Map<string | null, number>();
  readonly #sealedSeq = new Map<string | null, number>();
  readonly #sealing = new Map<string | null, Promise<Checkpoint[]>>();
  #timer: ReturnType<typeof setInterval> | null = null;

  constructor(options: IntegrityOptions | undefined, host: IntegrityHost) {
    this.#host = host;
    this.#settings = options === undefined ? null : resolveIntegrity(options);
    this.enabled = this.#settings !== null;
    const fields = new Set(this.#settings?.expirableFields ?? []);
    for (const policy of host.retention?.policies ?? []) {
      if (policy.action === 'expireData') for (const field of policy.fields ?? []) fields.add(field.replace(/^data\./, ''));
    }
    this.#expirable = [...fields].sort();
    if (this.enabled && !host.store.chain) {
      throw new EventLogError(
        'UNSUPPORTED',
        `The ${host.store.engine} store keeps no hash chains (it has no \`chain\` members); remove the integrity option or use the SQLite, PostgreSQL or MySQL store.`,
      );
    }
  }

  /** The schema to migrate to, and the columns a link covers. */
  schema(schema: StoreSchema): StoreSchema {
    if (!this.enabled) return schema;
    const full = withChainSchema(schema);
    this.#columns = hashedColumns(full.columns);
    this.#committed = commitmentColumns(this.#columns);
    return full;
  }

  get #chain(): ChainStore {
    return this.#host.store.chain as ChainStore;
  }

  #require(what: string): ResolvedIntegrity {
    if (!this.#settings) throw unsupported(what);
    return this.#settings;
  }

  /** The write buffer's sink: chained rows get their positions and hashes under the store's chain lock. */
  insert(rows: EventRow[]): Promise<number[]> {
    const settings = this.#settings;
    if (!settings) return this.#host.store.insert(rows);
    const chained = rows.map((row) => settings.isChained(row));
    if (!chained.includes(true)) return this.#host.store.insert(rows);
    // The rows get their chain columns in place: a retry of the same batch passes the same array
    // again (so a store's retry-safe insert recognises it), and each attempt links it afresh.
    const batch = rows;
    const tenants = [...new Set(rows.filter((_, i) => chained[i]).map((row) => (row.tenant_id as string | null) ?? null))];
    const heads = new Map<string | null, number>();
    // Each chained row's canonical content (and, in format 2, its data commitment) does not depend on
    // the tails: it is prepared in slices while the store takes its lock and reads the tails (round
    // trips on the client-server engines), and `link` only finishes what is left and chains the hashes.
    const prepare = this.#preparer(batch, chained, settings.format === 1);
    const format = settings.format === 1 ? CHAIN_FORMAT_V1 : CHAIN_FORMAT;
    const link = (tails: ReadonlyMap<string | null, ChainTail | null>): readonly EventRow[] => {
      const canonical = prepare.all();
      const state = new Map<string | null, { seq: number; hash: string }>();
      for (const tenant of tenants) {
        const tail = tails.get(tenant) ?? null;
        state.set(tenant, { seq: tail?.seq ?? 0, hash: tail?.hash ?? GENESIS_HASH });
      }
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i] as EventRow;
        if (!chained[i]) {
          row.chain_seq = null;
          row.chain_hash = null;
          row.chain_data = null;
          continue;
        }
        const tenant = (row.tenant_id as string | null) ?? null;
        const head = state.get(tenant) as { seq: number; hash: string };
        head.seq += 1;
        head.hash = linkHash(tenant, head.seq, head.hash, canonical[i] as string, format);
        row.chain_seq = head.seq;
        row.chain_hash = head.hash;
      }
      for (const [tenant, head] of state) heads.set(tenant, head.seq);
      return batch;
    };
    prepare.start();
    return this.#chain.append(batch, tenants, link).then(
      (ids) => {
        prepare.stop();
        this.#appended(heads, settings);
        return ids;
      },
      (error: unknown) => {
        prepare.stop();
        throw error;
      },
    );
  }

  /**
   * The tail-independent part of linking a batch: each chained row's data commitment (format 2,
   * set as its `chain_data`) and canonical content. `start` prepares slices of rows between I/O
   * callbacks; `all` prepares what is left, synchronously, and returns the canonical texts.
   */
  #preparer(batch: EventRow[], chained: readonly boolean[], v1: boolean) {
    const canonical: (string | undefined)[] = new Array(batch.length);
    let next = 0;
    let stopped = false;
    const upTo = (end: number) => {
      for (; next < end; next++) {
        if (!chained[next]) continue;
        const row = batch[next] as EventRow;
        if (v1) {
          row.chain_data = null;
          canonical[next] = canonicalRow(row, this.#columns);
        } else {
          row.chain_data = commitData(row.data, this.#expirable);
          canonical[next] = canonicalRow(row, this.#committed);
        }
      }
    };
    const step = () => {
      if (stopped || next >= batch.length) return;
      upTo(Math.min(batch.length, next + PREPARE_SLICE));
      if (next < batch.length) setImmediate(step);
    };
    return {
      start: () => {
        if (batch.length > PREPARE_SLICE) setImmediate(step);
      },
      all: () => {
        upTo(batch.length);
        return canonical;
      },
      stop: () => {
        stopped = true;
      },
    };
  }

  #appended(heads: ReadonlyMap<string | null, number>, settings: ResolvedIntegrity): void {
    const now = this.#host.clock();
    for (const [tenant, seq] of heads) {
      if (!this.#unsealedSince.has(tenant)) this.#unsealedSince.set(tenant, now);
      const sealed = this.#sealedSeq.get(tenant);
      if (sealed === undefined || seq - sealed >= settings.maxEvents) this.#background(tenant, false, seq);
    }
    if (!this.#timer) {
      this.#timer = setInterval(() => this.#tick(), Math.min(settings.maxAgeMs, 60_000));
      this.#timer.unref?.();
    }
  }

  #tick(): void {
    const settings = this.#settings as ResolvedIntegrity;
    const now = this.#host.clock();
    for (const [tenant, since] of this.#unsealedSince) if (now - since >= settings.maxAgeMs) this.#background(tenant, false);
  }

  #background(tenant: string | null, force: boolean, headSeq?: number): void {
    this.#sealTenant(tenant, force, headSeq).catch((error) => this.#host.report(error));
  }

  /** Stops the age timer and waits for sealing in progress (the log is closing). */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await Promise.all([...this.#sealing.values()].map((run) => run.catch(() => undefined)));
  }

  /** Seals one tenant's due segments; one sealing per tenant at a time in this process. */
  #sealTenant(tenant: string | null, force: boolean, headSeq?: number): Promise<Checkpoint[]> {
    const previous = this.#sealing.get(tenant) ?? Promise.resolve([]);
    const run = previous.catch(() => []).then(() => this.#sealNow(tenant, force, headSeq));
    this.#sealing.set(tenant, run);
    const forget = () => {
      if (this.#sealing.get(tenant) === run) this.#sealing.delete(tenant);
    };
    run.then(forget, forget);
    return run;
  }

  async #sealNow(tenant: string | null, force: boolean, headSeq?: number): Promise<Checkpoint[]> {
    const settings = this.#require('seal');
    const key = tenantKeyOf(tenant);
    const written: Checkpoint[] = [];
    for (;;) {
      const last = parseCheckpoint((await this.#chain.lastCheckpoint(key))?.body);
      const afterSeq = last?.lastSeq ?? 0;
      this.#sealedSeq.set(tenant, afterSeq);
      const since = this.#unsealedSince.get(tenant);
      const young = since !== undefined && this.#host.clock() - since < settings.maxAgeMs;
      // The appender knows the head: no need to read a segment that is not full yet.
      if (!force && young && headSeq !== undefined && headSeq - afterSeq < settings.maxEvents) return written;
      const rows = await this.#chain.rows({
        tenantId: tenant,
        afterSeq,
        toSeq: afterSeq + settings.maxEvents,
        limit: settings.maxEvents + 1,
        linksOnly: true,
      });
      if (rows.length === 0) {
        this.#unsealedSince.delete(tenant);
        return written;
      }
      const full = rows.length >= settings.maxEvents;
      const oldest = since ?? Math.min(...rows.map((r) => Number(r.time)));
      if (!full && !force && this.#host.clock() - oldest < settings.maxAgeMs) return written;
      // The checkpoint signs the link hashes as stored, over an unbroken run of positions. Content is
      // not hashed again here: a row changed without its hash is caught by verify against the signed
      // hash, and whoever can recompute hashes can do so before any seal.
      let prev = last?.lastHash ?? GENESIS_HASH;
      const leaves: string[] = [];
      let firstTime = Number.POSITIVE_INFINITY;
      let lastTime = Number.NEGATIVE_INFINITY;
      let firstId = Number.POSITIVE_INFINITY;
      let lastId = 0;
      for (let i = 0; i < rows.length; i++) {
        const row = rows[i] as Record<string, unknown>;
        const seq = Number(row.chain_seq);
        const stored = String(row.chain_hash);
        if (seq !== afterSeq + i + 1 || !/^[0-9a-f]{64}$/.test(stored)) {
          throw new EventLogError(
            'STORE_FAILED',
            `Refusing to seal tenant ${key}: position ${afterSeq + i + 1} is missing or doubled; run log.verify({ tenantId }) for details.`,
          );
        }
        prev = stored;
        leaves.push(stored);
        const time = Number(row.time);
        const id = Number(row.id);
        firstTime = Math.min(firstTime, time);
        lastTime = Math.max(lastTime, time);
        firstId = Math.min(firstId, id);
        lastId = Math.max(lastId, id);
      }
      const checkpoint = signCheckpoint(
        {
          format: CHECKPOINT_FORMAT,
          tenantId: tenant,
          firstSeq: afterSeq + 1,
          lastSeq: afterSeq + rows.length,
          count: rows.length,
          prevHash: last?.lastHash ?? GENESIS_HASH,
          lastHash: prev,
          merkleRoot: merkleRoot(leaves),
          firstTime,
          lastTime,
          firstId,
          lastId,
          sealedAt: this.#host.clock(),
          keyId: settings.keyId,
        },
        settings.privateKey,
      );
      const saved = await this.#chain.saveCheckpoint({
        tenantKey: key,
        firstSeq: checkpoint.firstSeq,
        lastSeq: checkpoint.lastSeq,
        body: JSON.stringify(checkpoint),
      });
      if (saved) written.push(checkpoint);
      this.#sealedSeq.set(tenant, checkpoint.lastSeq);
      if (!full) {
        this.#unsealedSince.delete(tenant);
        return written;
      }
    }
  }

  async head(tenantId: string | null): Promise<ChainAnchor | null> {
    this.#require('head');
    await this.#host.ready();
    const tenant = normalizeTenant(tenantId);
    const tail = await this.#chain.tail(tenant);
    return tail && { tenantId: tenant, seq: tail.seq, hash: tail.hash };
  }

  async seal(options: { tenantId?: string | null; force?: boolean } = {}): Promise<Checkpoint[]> {
    this.#require('seal');
    await this.#host.ready();
    const tenants = options.tenantId !== undefined ? [normalizeTenant(options.tenantId)] : [...this.#unsealedSince.keys()];
    const out: Checkpoint[] = [];
    for (const tenant of tenants) out.push(...(await this.#sealTenant(tenant, options.force === true)));
    return out;
  }

  async exportCheckpoints(options: { tenantId?: string | null; afterSeq?: number; limit?: number } = {}): Promise<Checkpoint[]> {
    this.#require('exportCheckpoints');
    await this.#host.ready();
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 10_000)), 100_000);
    const keys =
      options.tenantId !== undefined
        ? [tenantKeyOf(normalizeTenant(options.tenantId))]
        : await this.#chain.checkpointTenants({ limit: 100_000 });
    const out: Checkpoint[] = [];
    for (const tenantKey of keys) {
      let after = options.afterSeq ?? 0;
      while (out.length < limit) {
        const page = await this.#chain.checkpoints({ tenantKey, afterSeq: after, limit: Math.min(1000, limit - out.length) });
        for (const record of page) {
          const checkpoint = parseCheckpoint(record.body);
          if (checkpoint) out.push(checkpoint);
        }
        if (page.length === 0) break;
        after = (page[page.length - 1] as { firstSeq: number }).firstSeq;
      }
    }
    return out;
  }

  async sealedUpTo(tenantId: string | null, options: { before?: number } = {}): Promise<SealedBoundary | null> {
    this.#require('sealedUpTo');
    const tenant = normalizeTenant(tenantId);
    await this.#host.ready();
    const before = options.before ?? Number.POSITIVE_INFINITY;
    let boundary: SealedBoundary | null = null;
    let expectFirst = 1;
    for (let after = 0; ; ) {
      const page = await this.#chain.checkpoints({ tenantKey: tenantKeyOf(tenant), afterSeq: after, limit: 1000 });
      for (const record of page) {
        const checkpoint = parseCheckpoint(record.body);
        // Stop at the first segment that is unreadable, out of order or holds an event too new.
        if (!checkpoint || checkpoint.firstSeq !== expectFirst || checkpoint.lastTime >= before) return boundary;
        boundary = { tenantId: tenant, lastSeq: checkpoint.lastSeq, lastId: checkpoint.lastId, lastTime: checkpoint.lastTime };
        expectFirst = checkpoint.lastSeq + 1;
      }
      if (page.length < 1000) return boundary;
      after = (page[page.length - 1] as { firstSeq: number }).firstSeq;
    }
  }

  /** A retention delete's selection, cut so that chained events go only in whole sealed segments. */
  planDeletion(union: readonly (readonly Condition[])[]): Promise<ChainedDeletion> {
    this.#require('planDeletion');
    return planChainedDeletion(this.#host.store, this.#chain, union);
  }

  /** `log.verify()`. */
  async verify(input: VerifyInput): Promise<VerifyReport> {
    const settings = this.#require('verify');
    const parsed = parseInput(verifyInputSchema, input);
    await this.#host.ready();
    const anchors = parsed.anchors.map((anchor) =>
      'format' in anchor ? (parseCheckpoint(anchor) as Checkpoint) : (anchor as ChainAnchor),
    );
    return verifyChain(
      {
        chain: this.#chain,
        columns: this.#columns,
        committed: this.#committed,
        publicKey: settings.publicKey,
        isChained: (row) => settings.isChained(row as EventRow),
      },
      { tenantId: parsed.tenantId, since: parsed.since, until: parsed.until, anchors },
    );
  }
}
