import { timeBounds } from '../filter/filter.js';
import type { JobChainRetention } from '../retention/job-types.js';
import type { ChainStore } from '../storage/chain-contract.js';
import type { Condition, EventStore } from '../storage/contract.js';
import { type Checkpoint, parseCheckpoint } from './checkpoint.js';

/** A delete's selection split so that chained events go only in whole sealed segments. @internal */
export interface ChainedDeletion {
  /** Replaces the selection: its unchained events, then per tenant its chained events up to the boundary. */
  readonly segments: Condition[][];
  readonly chains: JobChainRetention;
}

const MAX_TENANTS = 1000;
const PAGE = 1000;

const UNCHAINED: Condition = { op: 'not', conditions: [{ op: 'notNull', column: 'chain_seq' }] };
const CHAINED: Condition = { op: 'notNull', column: 'chain_seq' };

/** The condition selecting one tenant's rows (the null tenant: `tenant_id IS NULL`). */
function tenantCondition(tenantId: string | null): Condition {
  return tenantId === null
    ? { op: 'not', conditions: [{ op: 'notNull', column: 'tenant_id' }] }
    : { op: 'in', column: 'tenant_id', values: [tenantId] };
}

/** A tenant's checkpoints from the start of its chain, up to the first gap or unreadable one. */
async function leadingCheckpoints(chain: ChainStore, tenantKey: string): Promise<Checkpoint[]> {
  const out: Checkpoint[] = [];
  for (let after = 0; ; ) {
    const page = await chain.checkpoints({ tenantKey, afterSeq: after, limit: PAGE });
    for (const record of page) {
      const checkpoint = parseCheckpoint(record.body);
      const expected = out.length === 0 ? 1 : (out[out.length - 1] as Checkpoint).lastSeq + 1;
      if (!checkpoint || checkpoint.firstSeq !== expected) return out;
      out.push(checkpoint);
    }
    if (page.length < PAGE) return out;
    after = (page[page.length - 1] as { firstSeq: number }).firstSeq;
  }
}

/**
 * Splits a delete's selection, the union of the disjoint condition lists `union`, for a log whose
 * events are hash-chained. Unchained events are deleted as selected. A tenant's chained events are
 * deleted only through the end of the longest run of sealed segments, from the start of its chain,
 * in which every event still stored is selected: deleting part of a segment would leave verify
 * reporting the rest as deleted rows, and a whole segment gone is proven by its checkpoint (kept).
 * Whether a run qualifies is monotone in its length (a longer run holds the shorter one), so the
 * boundary is found by binary search, after one probe of the longest run the time bound allows.
 * @internal
 */
export async function planChainedDeletion(
  store: EventStore,
  chain: ChainStore,
  union: readonly (readonly Condition[])[],
): Promise<ChainedDeletion> {
  const segments: Condition[][] = union.map((where) => [...where, UNCHAINED]);
  const tenants: JobChainRetention['tenants'] = [];
  let truncated = false;
  let deleted = 0;
  const selected = async (extra: readonly Condition[]) => {
    let n = 0;
    for (const where of union) n += await store.count([...where, ...extra]);
    return n;
  };
  // Segments whose newest event is not older than the selection's upper time bound cannot be whole.
  const lt = Math.max(...union.map((where) => timeBounds(where).lt ?? Number.POSITIVE_INFINITY));
  for (let afterKey: string | undefined; union.length > 0; ) {
    const keys = await chain.checkpointTenants({ ...(afterKey === undefined ? {} : { afterKey }), limit: PAGE });
    for (const key of keys) {
      const tenantId = JSON.parse(key) as string | null;
      const checkpoints = await leadingCheckpoints(chain, key);
      const tenant = tenantCondition(tenantId);
      const upTo = (k: number): Condition => ({ op: 'range', column: 'chain_seq', lte: (checkpoints[k - 1] as Checkpoint).lastSeq });
      const whole = async (k: number) => k === 0 || (await store.count([tenant, upTo(k)])) === (await selected([tenant, upTo(k)]));
      let hi = 0;
      while (hi < checkpoints.length && (checkpoints[hi] as Checkpoint).lastTime < lt) hi++;
      let k = hi;
      if (!(await whole(hi))) {
        // The largest k in [0, hi) with whole(k): whole(lo) holds, whole(top) does not.
        let lo = 0;
        let top = hi;
        while (top - lo > 1) {
          const mid = (lo + top) >>> 1;
          if (await whole(mid)) lo = mid;
          else top = mid;
        }
        k = lo;
      }
      const throughSeq = k === 0 ? 0 : (checkpoints[k - 1] as Checkpoint).lastSeq;
      const left = await selected([tenant, { op: 'range', column: 'chain_seq', gt: throughSeq }]);
      const stoppedBy = left === 0 ? null : k < checkpoints.length ? 'partial' : 'unsealed';
      if (throughSeq > 0) {
        const through: Condition = { op: 'range', column: 'chain_seq', lte: throughSeq };
        for (const where of union) segments.push([...where, tenant, through]);
        deleted += await selected([tenant, through]);
      }
      if (tenants.length < MAX_TENANTS) tenants.push({ tenantId, throughSeq, stoppedBy });
      else truncated = true;
    }
    if (keys.length < PAGE) break;
    afterKey = keys[keys.length - 1];
  }
  const kept = (await selected([CHAINED])) - deleted;
  return { segments, chains: { kept, tenants, truncated } };
}
