import type { KeyObject } from 'node:crypto';
import type { ChainStore } from '../storage/chain-contract.js';
import type { StoredRow } from '../storage/contract.js';
import { CHAIN_FORMAT, CHAIN_FORMAT_V1, type ChainFormat, canonicalRow, GENESIS_HASH, type HashedColumns, linkHash } from './canonical.js';
import { type Checkpoint, checkSignature, parseCheckpoint, tenantKeyOf } from './checkpoint.js';
import { checkData, type DataCheck } from './commitment.js';
import { merkleRoot } from './merkle.js';

/** A chain head someone kept elsewhere (from `log.integrity.head()`): the position and hash it had. */
export interface ChainAnchor {
  readonly tenantId: string | null;
  readonly seq: number;
  readonly hash: string;
}

/** Why a checkpoint failed verification. */
export type CheckpointFailureReason =
  | 'signature'
  | 'unreadable'
  | 'missing'
  | 'previous-hash'
  | 'count'
  | 'merkle-root'
  | 'last-hash'
  | 'anchor-mismatch';

/** What `log.verify()` found for one tenant's chain. Every list is in chain order and capped at 1,000 entries. */
export interface VerifyReport {
  /** True when nothing below was found. */
  readonly ok: boolean;
  readonly tenantId: string | null;
  /** Sealed segments whose rows were checked against their checkpoint. */
  readonly segmentsChecked: number;
  /** Sealed segments whose events are all gone (removed by retention); their checkpoints were still checked. */
  readonly segmentsPruned: number;
  /**
   * What the checkpoints of those segments prove was deleted: positions, count, time range and the
   * Merkle root of the deleted links (a kept copy of the links or an archive can be checked against it).
   */
  readonly pruned: readonly PrunedSegment[];
  /** Chained rows read and checked (sealed and unsealed). */
  readonly rowsChecked: number;
  /** The highest chain position sealed by a checkpoint (0: none). */
  readonly sealedSeq: number;
  /** The highest chain position found in the store (0: none). */
  readonly headSeq: number;
  /** Whether checkpoint signatures were checked (false without a public key). */
  readonly signaturesVerified: boolean;
  /** The lowest chain position at which anything is wrong, or null. */
  readonly firstBrokenSeq: number | null;
  /** Rows whose content no longer matches their link hash (or their `data` its committed hash). */
  readonly modified: readonly { readonly seq: number; readonly id: number }[];
  /**
   * Intact rows whose `data` (`fields: null`) or committed fields of it were dropped, as field
   * expiry (`expireData`) does: reported, and not a failure. Rows chained in format 1 (before data
   * commitments) that lost data are reported as modified instead.
   */
  readonly expired: readonly { readonly seq: number; readonly id: number; readonly fields: readonly string[] | null }[];
  /** Chain positions with no row (the id is known only when the row's link survived elsewhere: never, so null). */
  readonly deleted: readonly { readonly seq: number; readonly id: number | null }[];
  /** Rows of chained kinds that are not links of the chain (no position, or a second row at a taken position). */
  readonly inserted: readonly { readonly id: number; readonly seq: number | null }[];
  /** Intact rows found at another position than the one they were chained at. */
  readonly reordered: readonly { readonly id: number; readonly seq: number; readonly expectedSeq: number }[];
  /** Checkpoints that are unsigned, badly signed, inconsistent with the rows, missing, or differ from an anchor. */
  readonly checkpointFailures: readonly {
    readonly firstSeq: number;
    readonly lastSeq: number;
    readonly reason: CheckpointFailureReason;
  }[];
  /** Positions an anchor proves existed and that are gone from the end of the chain. */
  readonly missingNewest: { readonly fromSeq: number; readonly toSeq: number } | null;
  /** Whether a list was cut at 1,000 entries. */
  readonly truncated: boolean;
}

/** A sealed segment whose events retention removed, as its checkpoint records it. */
export interface PrunedSegment {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly firstTime: number;
  readonly lastTime: number;
  readonly merkleRoot: string;
}

/** What {@link verifyChain} needs from the log. @internal */
export interface VerifyContext {
  readonly chain: ChainStore;
  /** The columns of format 1 links, and of format 2 links (with the data commitment instead of `data`). */
  readonly columns: HashedColumns;
  readonly committed: HashedColumns;
  readonly publicKey: KeyObject | null;
  readonly isChained: (row: StoredRow) => boolean;
}

/** Normalised input of {@link verifyChain}. @internal */
export interface VerifyRequest {
  readonly tenantId: string | null;
  readonly since?: number;
  readonly until?: number;
  readonly anchors: readonly (ChainAnchor | Checkpoint)[];
}

const MAX_LIST = 1000;
const INTACT: DataCheck = { status: 'intact' };
const PAGE = 1000;

interface Row {
  readonly id: number;
  readonly seq: number;
  readonly hash: string;
  readonly canonical: string;
  readonly format: ChainFormat;
  readonly data: DataCheck;
  readonly time: number;
}

/** Checks one tenant's chain, its checkpoints and the anchors given. @internal */
export async function verifyChain(context: VerifyContext, request: VerifyRequest): Promise<VerifyReport> {
  const { chain, publicKey } = context;
  const tenantId = request.tenantId;
  const tenantKey = tenantKeyOf(tenantId);
  let truncated = false;
  const push = <T>(list: T[], item: T) => {
    if (list.length < MAX_LIST) list.push(item);
    else truncated = true;
  };
  const modified: { seq: number; id: number }[] = [];
  const expired: { seq: number; id: number; fields: string[] | null }[] = [];
  const deleted: { seq: number; id: number | null }[] = [];
  const inserted: { id: number; seq: number | null }[] = [];
  const reordered: { id: number; seq: number; expectedSeq: number }[] = [];
  const failures: { firstSeq: number; lastSeq: number; reason: CheckpointFailureReason }[] = [];
  const pruned: PrunedSegment[] = [];
  let missingNewest: { fromSeq: number; toSeq: number } | null = null;
  let segmentsChecked = 0;
  let segmentsPruned = 0;
  let rowsChecked = 0;
  let headSeq = 0;
  let minChainedId = Number.POSITIVE_INFINITY;
  const hash = (seq: number, prev: string, row: Row) => linkHash(tenantId, seq, prev, row.canonical, row.format);

  // Checkpoints, in order, with their own consistency and signatures.
  const checkpoints: Checkpoint[] = [];
  for (let after = 0; ; ) {
    const page = await chain.checkpoints({ tenantKey, afterSeq: after, limit: 500 });
    for (const record of page) {
      const checkpoint = parseCheckpoint(record.body);
      if (
        !checkpoint ||
        checkpoint.tenantId !== tenantId ||
        checkpoint.firstSeq !== record.firstSeq ||
        checkpoint.lastSeq !== record.lastSeq
      ) {
        push(failures, { firstSeq: record.firstSeq, lastSeq: record.lastSeq, reason: 'unreadable' });
        continue;
      }
      checkpoints.push(checkpoint);
    }
    if (page.length < 500) break;
    after = (page[page.length - 1] as { firstSeq: number }).firstSeq;
  }
  let expectFirst = 1;
  let expectPrev: string | null = GENESIS_HASH;
  for (const checkpoint of checkpoints) {
    const range = { firstSeq: checkpoint.firstSeq, lastSeq: checkpoint.lastSeq };
    if (checkpoint.firstSeq > expectFirst) push(failures, { firstSeq: expectFirst, lastSeq: checkpoint.firstSeq - 1, reason: 'missing' });
    else if (checkpoint.firstSeq === expectFirst && expectPrev !== null && checkpoint.prevHash !== expectPrev) {
      push(failures, { ...range, reason: 'previous-hash' });
    }
    if (checkpoint.count !== checkpoint.lastSeq - checkpoint.firstSeq + 1) push(failures, { ...range, reason: 'count' });
    if (publicKey && !checkSignature(checkpoint, publicKey)) push(failures, { ...range, reason: 'signature' });
    expectFirst = checkpoint.lastSeq + 1;
    expectPrev = checkpoint.lastHash;
    minChainedId = Math.min(minChainedId, checkpoint.firstId);
  }
  const sealedSeq = checkpoints.length > 0 ? (checkpoints[checkpoints.length - 1] as Checkpoint).lastSeq : 0;

  // Segments to check: each checkpoint's range, the ranges between them that lack one, and the unsealed tail.
  interface Segment {
    first: number;
    last: number;
    checkpoint: Checkpoint | null;
  }
  const segments: Segment[] = [];
  let next = 1;
  for (const checkpoint of checkpoints) {
    if (checkpoint.firstSeq < next) continue;
    if (checkpoint.firstSeq > next) segments.push({ first: next, last: checkpoint.firstSeq - 1, checkpoint: null });
    segments.push({ first: checkpoint.firstSeq, last: checkpoint.lastSeq, checkpoint });
    next = checkpoint.lastSeq + 1;
  }
  segments.push({ first: next, last: Number.POSITIVE_INFINITY, checkpoint: null });

  const inRange = (s: Segment) =>
    !s.checkpoint ||
    ((request.since === undefined || s.checkpoint.lastTime >= request.since) &&
      (request.until === undefined || s.checkpoint.firstTime < request.until));

  const hashAt = new Map<number, string>();
  const primaryAll = new Map<number, Row>();
  const segmentStart = new Map<number, string | null>();
  const suspects: Row[] = [];
  let prevLast: string | null = GENESIS_HASH;
  for (const segment of segments) {
    const prevOfSegment = segment.checkpoint ? segment.checkpoint.prevHash : segment.first === 1 ? GENESIS_HASH : prevLast;
    if (!inRange(segment)) {
      prevLast = segment.checkpoint?.lastHash ?? null;
      continue;
    }
    const rows = await readSegment(chain, tenantId, segment.first - 1, segment.last, context);
    rowsChecked += rows.length;
    if (segment.checkpoint && rows.length === 0) {
      segmentsPruned++;
      const { firstSeq, lastSeq, count, firstTime, lastTime, merkleRoot: root } = segment.checkpoint;
      push(pruned, { firstSeq, lastSeq, count, firstTime, lastTime, merkleRoot: root });
      prevLast = segment.checkpoint.lastHash;
      continue;
    }
    if (segment.checkpoint) segmentsChecked++;
    const bySeq = new Map<number, Row[]>();
    let top = segment.first - 1;
    for (const row of rows) {
      minChainedId = Math.min(minChainedId, row.id);
      const list = bySeq.get(row.seq);
      if (list) list.push(row);
      else bySeq.set(row.seq, [row]);
      top = Math.max(top, row.seq);
    }
    const last = segment.checkpoint ? segment.last : top;
    headSeq = Math.max(headSeq, top);
    // One row per position: the one whose link verifies; others at the same position were inserted.
    const primary = new Map<number, Row>();
    for (let seq = segment.first; seq <= last; seq++) {
      const at = bySeq.get(seq);
      if (!at) {
        push(deleted, { seq, id: null });
        continue;
      }
      const prev = seq === segment.first ? prevOfSegment : (primary.get(seq - 1)?.hash ?? null);
      const valid = prev === null ? undefined : at.find((r) => hash(seq, prev, r) === r.hash);
      const chosen = valid ?? (at[0] as Row);
      primary.set(seq, chosen);
      for (const r of at) if (r !== chosen) push(inserted, { id: r.id, seq });
    }
    // Rows whose link fails with the stored previous hash; classified once every segment is read.
    segmentStart.set(segment.first, prevOfSegment);
    let segmentSuspects = 0;
    for (let seq = segment.first; seq <= last; seq++) {
      const row = primary.get(seq);
      if (!row) continue;
      hashAt.set(seq, row.hash);
      primaryAll.set(seq, row);
      const prev = seq === segment.first ? prevOfSegment : (primary.get(seq - 1)?.hash ?? null);
      if (prev === null) continue; // after a deleted position nothing can be checked locally; the deletion is reported
      if (hash(seq, prev, row) !== row.hash) {
        suspects.push(row);
        segmentSuspects++;
      } else if (row.data.status === 'modified') push(modified, { seq, id: row.id });
      else if (row.data.status === 'expired') push(expired, { seq, id: row.id, fields: row.data.fields });
    }
    if (segment.checkpoint) {
      const cp = segment.checkpoint;
      const range = { firstSeq: cp.firstSeq, lastSeq: cp.lastSeq };
      const complete = primary.size === cp.count && segmentSuspects === 0;
      if (complete) {
        const leaves: string[] = [];
        for (let seq = cp.firstSeq; seq <= cp.lastSeq; seq++) leaves.push((primary.get(seq) as Row).hash);
        // Links that verify one by one but not against the signed root: the segment was rewritten and re-hashed.
        if (merkleRoot(leaves) !== cp.merkleRoot) push(failures, { ...range, reason: 'merkle-root' });
        else if (leaves[leaves.length - 1] !== cp.lastHash) push(failures, { ...range, reason: 'last-hash' });
      }
      prevLast = cp.lastHash;
    } else prevLast = primary.get(last)?.hash ?? null;
  }

  // A suspect intact under a neighbour's moved hash is not itself at fault; one that verifies at
  // another suspect's position was moved there (reordered); the rest were modified.
  const candidates = new Set(suspects.map((r) => r.hash));
  const prevCandidates = (seq: number) => {
    const stored = segmentStart.has(seq) ? (segmentStart.get(seq) ?? null) : (primaryAll.get(seq - 1)?.hash ?? null);
    return stored === null ? [...candidates] : [stored, ...candidates];
  };
  const faulty = suspects.filter((row) => !prevCandidates(row.seq).some((p) => hash(row.seq, p, row) === row.hash));
  for (const row of faulty) {
    let expectedSeq: number | null = null;
    for (const other of faulty) {
      if (other === row) continue;
      const p = other.seq;
      const fits = prevCandidates(p).some((prev) => {
        const h = hash(p, prev, row);
        return h === row.hash || h === other.hash;
      });
      if (fits) {
        expectedSeq = p;
        break;
      }
    }
    if (expectedSeq !== null) push(reordered, { id: row.id, seq: row.seq, expectedSeq });
    else push(modified, { seq: row.seq, id: row.id });
  }
  // Rows with a changed payload were found segment by segment, the rest after: back to chain order.
  modified.sort((a, b) => a.seq - b.seq || a.id - b.id);

  // Anchors: positions and checkpoints kept elsewhere.
  const byFirst = new Map(checkpoints.map((c) => [c.firstSeq, c]));
  let anchoredTop = 0;
  for (const anchor of request.anchors) {
    if (anchor.tenantId !== tenantId) continue;
    if ('format' in anchor) {
      anchoredTop = Math.max(anchoredTop, anchor.lastSeq);
      const stored = byFirst.get(anchor.firstSeq);
      if (!stored) {
        if (anchor.lastSeq <= sealedSeq || anchor.lastSeq <= headSeq)
          push(failures, { firstSeq: anchor.firstSeq, lastSeq: anchor.lastSeq, reason: 'missing' });
      } else if (stored.lastSeq !== anchor.lastSeq || stored.merkleRoot !== anchor.merkleRoot || stored.lastHash !== anchor.lastHash) {
        push(failures, { firstSeq: anchor.firstSeq, lastSeq: anchor.lastSeq, reason: 'anchor-mismatch' });
      }
    } else {
      anchoredTop = Math.max(anchoredTop, anchor.seq);
      const found = hashAt.get(anchor.seq) ?? checkpoints.find((c) => c.lastSeq === anchor.seq)?.lastHash;
      if (found !== undefined && found !== anchor.hash)
        push(failures, { firstSeq: anchor.seq, lastSeq: anchor.seq, reason: 'anchor-mismatch' });
    }
  }
  const knownTop = Math.max(headSeq, sealedSeq);
  if (anchoredTop > knownTop) missingNewest = { fromSeq: knownTop + 1, toSeq: anchoredTop };

  // Rows of chained kinds written after the chain began that carry no position.
  const start = Number.isFinite(minChainedId) ? minChainedId : Number.POSITIVE_INFINITY;
  if (Number.isFinite(start)) {
    for (let after = start; ; ) {
      const page = await chain.unchained({ tenantId, afterId: after, where: [], limit: PAGE });
      for (const row of page) if (context.isChained(row)) push(inserted, { id: Number(row.id), seq: null });
      if (page.length < PAGE) break;
      after = Number((page[page.length - 1] as StoredRow).id);
    }
  }

  const seqs = [
    ...modified.map((m) => m.seq),
    ...deleted.map((d) => d.seq),
    ...reordered.map((r) => Math.min(r.seq, r.expectedSeq)),
    ...inserted.flatMap((i) => (i.seq === null ? [] : [i.seq])),
    ...failures.map((f) => f.firstSeq),
    ...(missingNewest ? [missingNewest.fromSeq] : []),
  ];
  const problems = modified.length + deleted.length + inserted.length + reordered.length + failures.length + (missingNewest ? 1 : 0);
  return {
    ok: problems === 0,
    tenantId,
    segmentsChecked,
    segmentsPruned,
    pruned,
    rowsChecked,
    sealedSeq,
    headSeq: knownTop,
    signaturesVerified: publicKey !== null,
    firstBrokenSeq: seqs.length > 0 ? Math.min(...seqs) : problems > 0 ? 1 : null,
    modified,
    expired,
    deleted,
    inserted,
    reordered,
    checkpointFailures: failures,
    missingNewest,
    truncated,
  };
}

/** Reads the chained rows of positions `(after, last]`, in position order. */
async function readSegment(
  chain: ChainStore,
  tenantId: string | null,
  after: number,
  last: number,
  context: Pick<VerifyContext, 'columns' | 'committed'>,
): Promise<Row[]> {
  const out: Row[] = [];
  const seen = new Set<number>();
  for (let cursor = after; ; ) {
    const page = await chain.rows({ tenantId, afterSeq: cursor, toSeq: Number.isFinite(last) ? last : undefined, limit: PAGE });
    for (const row of page) {
      const id = Number(row.id);
      if (seen.has(id)) continue;
      seen.add(id);
      // Format 2 rows carry their data commitment; format 1 rows (NULL there) hash `data` itself.
      const commitment = row.chain_data;
      const v2 = typeof commitment === 'string';
      out.push({
        id,
        seq: Number(row.chain_seq),
        hash: String(row.chain_hash),
        canonical: canonicalRow(row, v2 ? context.committed : context.columns),
        format: v2 ? CHAIN_FORMAT : CHAIN_FORMAT_V1,
        data: v2 ? checkData(row.data, commitment) : INTACT,
        time: Number(row.time),
      });
    }
    if (page.length < PAGE) break;
    const lastSeq = Number((page[page.length - 1] as StoredRow).chain_seq);
    // Rows sharing the page's last position may continue on the next page: read that position again.
    cursor = page.some((r) => Number(r.chain_seq) !== lastSeq) ? lastSeq - 1 : lastSeq;
  }
  return out;
}
