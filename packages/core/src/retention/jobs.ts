import type { LogCore } from '../core.js';
import { EventLogError, isEventLogError, NotFoundError, ValidationError } from '../errors.js';
import type { Condition, JobRow, JobStatus, JobStore, ReleaseLock, StoredRow } from '../storage/contract.js';
import { type ArchiveWriter, archiveFileName, openArchive } from './archive.js';
import { runBatches } from './batches.js';
import type { ArchiveOptions, JobArchive, JobChainRetention, JobInfo, JobListInput, JobsApi, RetentionPolicy } from './job-types.js';
import { createMemoryJobStore } from './memory-jobs.js';

/** What a job does, fixed when it is created so that a resumed job selects exactly what it started on. @internal */
export interface JobSpec {
  kind: 'delete' | 'expireData';
  name: string;
  /** The policy's name for policy jobs (its archive stream is looked up again on resume). */
  policy: string | null;
  /** Events strictly older than this. */
  before: number;
  /** Processed one after another; each an AND of conditions. */
  segments: Condition[][];
  /** expireData: paths into data (without `data.`), or null for the whole payload. */
  fields: string[] | null;
  batchSize: number;
  pauseMs: number;
  dryRun: boolean;
  archive: { format: 'jsonl' | 'csv'; gzip: boolean; file: string | null } | null;
  /** Delete jobs on a chained log: where each tenant's chain boundary cut the selection (absent in older state). */
  chains?: JobChainRetention | null;
}

/** What the jobs table's `state` column holds. */
interface JobState {
  v: 1;
  spec: JobSpec;
  total: number | null;
  processed: number;
  /** Index of the segment being worked on. */
  segment: number;
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
  dryRunCount: number | null;
  archive: JobArchive | null;
  /** Ids written to the archive and not yet deleted: deleted first on resume, never archived again. */
  pending: number[] | null;
  /** A stream archive that another process started (its checksum cannot cover the whole). */
  resumedStream?: boolean;
}

/**
 * Which rows a delete may take when tamper-evident chains are on: given the selection (a union of
 * disjoint condition lists), the lists to delete instead, chained events only in whole sealed
 * segments. Called once for every delete job created, so a resumed job deletes what it started on.
 * @internal
 */
export type RetentionBoundary = (
  union: readonly (readonly Condition[])[],
) => Promise<{ segments: Condition[][]; chains: JobChainRetention }>;

/** How the jobs module reaches the rest of the log. @internal */
export interface JobsContext {
  /** The log's policies, the default last. */
  readonly policies: readonly RetentionPolicy[];
  readonly leaseMs: number;
  /** Resolves a policy's segments at `before`. */
  readonly segments: (policy: RetentionPolicy, before: number) => Promise<Condition[][]>;
  /** Defaults for batches. */
  readonly batchSize: () => number;
  readonly pauseMs: number;
  /** @default the log's hash chains when the `integrity` option is on */
  readonly boundary?: RetentionBoundary;
}

const DAY = 86_400_000;
const PROGRESS_MS = 250;
const UNFINISHED: JobStatus[] = ['pending', 'running'];

/** The job runner and `log.jobs`. @internal */
export function createJobs(core: LogCore, context: JobsContext) {
  const table: JobStore = core.store.jobs ?? createMemoryJobStore();
  const local = new Map<string, AbortController>();
  const call = <R>(operation: string, fn: () => Promise<R>) => core.guard(operation, fn);
  const boundary: RetentionBoundary | undefined =
    context.boundary ??
    (core.integrity.enabled ? (union) => call('planChainedDeletion', () => core.integrity.planDeletion(union)) : undefined);

  const toInfo = (row: JobRow): JobInfo => {
    const state = JSON.parse(row.state) as JobState;
    return {
      id: row.id,
      name: row.name,
      kind: state.spec.kind,
      status: row.status,
      dryRun: state.spec.dryRun,
      total: state.total,
      processed: state.processed,
      // A finished run has nothing left (expireData's total also counts rows that held no data).
      remaining:
        state.total === null ? null : row.status === 'succeeded' && !state.spec.dryRun ? 0 : Math.max(0, state.total - state.processed),
      dryRunCount: state.dryRunCount,
      before: state.spec.before,
      createdAt: row.createdAt,
      startedAt: state.startedAt,
      finishedAt: state.finishedAt,
      updatedAt: row.updatedAt,
      error: state.error,
      cancelRequested: row.cancelRequested,
      archive: state.archive,
      chains: state.spec.chains ?? null,
    };
  };

  const reread = async (id: string): Promise<JobInfo> => {
    const row = await call('getJob', () => table.get(id));
    if (!row) throw new EventLogError('STORE_FAILED', `The ${core.store.engine} store lost job ${id}.`);
    return toInfo(row);
  };

  /** Takes a lock and keeps it: `renew` re-takes it when half its lease has passed, false when another process got it. */
  async function lease(key: string): Promise<{ renew(): Promise<boolean>; release: ReleaseLock } | null> {
    let release = await call('tryLock', () => core.defaults.tryLock(key, context.leaseMs));
    if (!release) return null;
    let taken = Date.now();
    return {
      async renew() {
        if (Date.now() - taken < context.leaseMs / 2) return true;
        await release?.();
        release = await call('tryLock', () => core.defaults.tryLock(key, context.leaseMs));
        taken = Date.now();
        return release !== null;
      },
      release: async () => {
        await release?.();
        release = null;
      },
    };
  }

  const lockKey = (row: { id: string }, spec: JobSpec) => (spec.policy ? `policy:${spec.policy}` : `job:${row.id}`);

  /** Runs a job this process holds the lock of, from wherever its state says it stands. */
  async function drive(row: JobRow, held: { renew(): Promise<boolean> }, signal?: AbortSignal): Promise<JobInfo> {
    const state = JSON.parse(row.state) as JobState;
    const { spec } = state;
    const controller = new AbortController();
    local.set(row.id, controller);
    const stop = () => controller.abort();
    signal?.addEventListener('abort', stop);
    if (signal?.aborted) stop();
    let status: JobStatus = 'running';
    const save = async () => {
      await call('updateJob', () => table.update({ id: row.id, status, updatedAt: core.clock(), state: JSON.stringify(state) }));
    };
    let writer: ArchiveWriter | null = null;
    try {
      await core.ready();
      state.startedAt ??= core.clock();
      state.error = null;
      await save();
      const count = async () => {
        let n = 0;
        for (const where of spec.segments) n += await call('count', () => core.store.count(where));
        return n;
      };
      if (spec.dryRun) {
        state.dryRunCount = await count();
        state.total = state.dryRunCount;
        status = 'succeeded';
        state.finishedAt = core.clock();
        await save();
        return await reread(row.id);
      }
      if (state.total === null) {
        state.total = await count();
        await save();
      }
      if (spec.archive) writer = await openWriter(row, state);
      const deleteIds = async (ids: number[]) => {
        const n = await call('delete', () => core.store.delete({ where: [{ op: 'in', column: 'id', values: ids }], limit: ids.length }));
        state.processed += n;
        state.pending = null;
        await save();
      };
      if (state.pending?.length) await deleteIds(state.pending);

      let stopped: 'cancelled' | 'lost' | null = null;
      // Progress is saved and other processes' cancels are looked for at most every PROGRESS_MS:
      // on SQLite each is a statement on the writers' one connection, and a batch must stay short.
      let checked = Date.now();
      const after = async () => {
        if (controller.signal.aborted) stopped = 'cancelled';
        else if (Date.now() - checked >= PROGRESS_MS) {
          checked = Date.now();
          if ((await call('getJob', () => table.get(row.id)))?.cancelRequested) stopped = 'cancelled';
          else if (!(await held.renew())) stopped = 'lost';
          else await save();
        }
        return stopped === null;
      };
      while (state.segment < spec.segments.length && !stopped) {
        const where = spec.segments[state.segment] as Condition[];
        const step = stepFor(where, state, writer, deleteIds, save);
        const { complete } = await runBatches(step, { batchSize: spec.batchSize, pauseMs: spec.pauseMs, after });
        if (!complete) break;
        state.segment++;
        await save();
      }
      if (stopped === 'lost') return await reread(row.id);
      if (stopped === 'cancelled' || state.segment < spec.segments.length) {
        status = 'cancelled';
        if (writer) await writer.close();
        writer = null;
      } else {
        status = 'succeeded';
        if (writer && state.archive) state.archive.sha256 = await writer.finish();
        writer = null;
      }
      state.finishedAt = core.clock();
      await save();
      if (spec.kind === 'delete') core.report('pruned', { deleted: state.processed, before: spec.before });
      return await reread(row.id);
    } catch (error) {
      await writer?.close().catch(() => undefined);
      if (!core.closed) {
        status = 'failed';
        state.error = error instanceof Error ? error.message : String(error);
        state.finishedAt = core.clock();
        await save().catch(() => undefined);
      }
      throw error;
    } finally {
      signal?.removeEventListener('abort', stop);
      local.delete(row.id);
    }
  }

  function stepFor(
    where: Condition[],
    state: JobState,
    writer: ArchiveWriter | null,
    deleteIds: (ids: number[]) => Promise<void>,
    save: () => Promise<void>,
  ) {
    const { spec } = state;
    if (spec.kind === 'expireData') {
      const redactData = core.store.redactData;
      if (!redactData) throw new EventLogError('UNSUPPORTED', `The ${core.store.engine} store cannot remove data from stored events.`);
      return async () => {
        const n = await call('redactData', () => redactData.call(core.store, { where, limit: spec.batchSize }, spec.fields));
        state.processed += n;
        return n;
      };
    }
    if (writer && state.archive) {
      const archive = state.archive;
      return async () => {
        const rows: StoredRow[] = await call('find', () =>
          core.store.find({ where, orderBy: { column: 'time', direction: 'asc' }, limit: spec.batchSize }),
        );
        if (rows.length === 0) return 0;
        // Written and flushed, then recorded with the ids, then deleted: a crash in between leaves
        // ids the next run deletes without writing them again.
        archive.bytes += await writer.append(rows);
        archive.rows += rows.length;
        state.pending = rows.map((r) => Number(r.id));
        await save();
        await deleteIds(state.pending);
        return rows.length;
      };
    }
    return async () => {
      const n = await call('delete', () => core.store.delete({ where, limit: spec.batchSize }));
      state.processed += n;
      return n;
    };
  }

  async function openWriter(row: JobRow, state: JobState): Promise<ArchiveWriter> {
    const archive = state.spec.archive as NonNullable<JobSpec['archive']>;
    state.archive ??= { format: archive.format, gzip: archive.gzip, file: archive.file, rows: 0, bytes: 0, sha256: null };
    if (archive.file) return openArchive(state.archive, { file: archive.file }, core.registry);
    const factory = state.spec.policy ? context.policies.find((p) => p.name === state.spec.policy)?.archive?.stream : streams.get(row.id);
    if (!factory) {
      throw new EventLogError(
        'UNSUPPORTED',
        `Job ${row.id} archives to a stream that this process does not have; run it where it started.`,
      );
    }
    const resumed = state.archive.bytes > 0 || state.resumedStream === true;
    state.resumedStream = resumed;
    return openArchive(state.archive, { stream: factory(toInfo(row)), resumed }, core.registry);
  }

  /** Stream factories of ad-hoc jobs started in this process. */
  const streams = new Map<string, NonNullable<ArchiveOptions['stream']>>();

  function archiveSpec(options: ArchiveOptions | undefined, name: string, id: string): JobSpec['archive'] {
    if (!options) return null;
    const format = options.format ?? 'jsonl';
    const gzip = options.gzip !== false;
    return { format, gzip, file: options.directory ? archiveFileName(options.directory, name, id, format, gzip) : null };
  }

  /** Creates a job under a lock already taken for it and runs it. */
  async function start(id: string, spec: JobSpec, held: { renew(): Promise<boolean> }, signal?: AbortSignal): Promise<JobInfo> {
    const now = core.clock();
    const state: JobState = {
      v: 1,
      spec,
      total: null,
      processed: 0,
      segment: 0,
      startedAt: null,
      finishedAt: null,
      error: null,
      dryRunCount: null,
      archive: null,
      pending: null,
    };
    const row: JobRow = {
      id,
      name: spec.name,
      kind: spec.kind,
      status: 'pending',
      createdAt: now,
      updatedAt: now,
      cancelRequested: false,
      state: JSON.stringify(state),
    };
    await call('createJob', () => table.create(row));
    return drive(row, held, signal);
  }

  /** Runs an ad-hoc job (prune, expireData) under its own lock. @internal */
  async function runAdHoc(spec: Omit<JobSpec, 'archive' | 'policy'>, archive?: ArchiveOptions, signal?: AbortSignal): Promise<JobInfo> {
    await core.ready();
    const id = newJobId();
    const held = await lease(`job:${id}`);
    if (!held) throw new EventLogError('STORE_FAILED', `The ${core.store.engine} store refused the lock of a new job.`);
    if (archive?.stream) streams.set(id, archive.stream);
    try {
      const cut = boundary && spec.kind === 'delete' ? await boundary(spec.segments) : { segments: spec.segments, chains: null };
      const full: JobSpec = { ...spec, ...cut, policy: null, archive: archiveSpec(archive, spec.name, id) };
      return await start(id, full, held, signal);
    } finally {
      streams.delete(id);
      await held.release();
    }
  }

  const api: Omit<JobsApi, 'prune'> = {
    async runPolicy(name, options = {}) {
      core.assertOpen();
      const policy = context.policies.find((p) => p.name === name);
      if (!policy) throw new NotFoundError(`There is no retention policy named "${name}".`);
      await core.ready();
      const held = await lease(`policy:${name}`);
      if (!held) return null;
      try {
        if (!options.dryRun) {
          // A job of this policy left unfinished (a crash, a restart, an error) is continued, not started again.
          const [open] = await call('listJobs', () => table.list({ name, status: [...UNFINISHED, 'failed'], limit: 1 }));
          if (open && !(JSON.parse(open.state) as JobState).spec.dryRun) return await drive(open, held, options.signal);
        }
        const id = newJobId();
        const before = core.clock() - policy.maxAgeDays * DAY;
        const segments = await context.segments(policy, before);
        const kind = policy.action === 'expireData' ? 'expireData' : 'delete';
        const cut = boundary && kind === 'delete' ? await boundary(segments) : { segments, chains: null };
        const fields = policy.fields ? [...new Set(policy.fields.map((f) => f.replace(/^data\./, '')))] : null;
        const spec: JobSpec = {
          kind,
          name,
          policy: name,
          before,
          ...cut,
          fields,
          batchSize: context.batchSize(),
          pauseMs: context.pauseMs,
          dryRun: options.dryRun === true,
          archive: options.dryRun ? null : archiveSpec(policy.archive, name, id),
        };
        return await start(id, spec, held, options.signal);
      } finally {
        await held.release();
      }
    },

    async resume() {
      core.assertOpen();
      await core.ready();
      const done: JobInfo[] = [];
      const open = await call('listJobs', () => table.list({ status: UNFINISHED, limit: 1000 }));
      for (const row of open.reverse()) {
        if (local.has(row.id)) continue;
        const spec = (JSON.parse(row.state) as JobState).spec;
        const held = await lease(lockKey(row, spec));
        if (!held) continue;
        try {
          // Read again under the lock: the job may have finished meanwhile.
          const fresh = await call('getJob', () => table.get(row.id));
          if (fresh && UNFINISHED.includes(fresh.status)) done.push(await drive(fresh, held));
        } finally {
          await held.release();
        }
      }
      return done;
    },

    async cancel(id) {
      core.assertOpen();
      await core.ready();
      const row = await call('getJob', () => table.get(id));
      if (!row) return null;
      if (!UNFINISHED.includes(row.status)) return toInfo(row);
      await call('cancelJob', () => table.requestCancel(id));
      const here = local.get(id);
      if (here) {
        here.abort();
      } else {
        // Nobody holds it (its process died): mark it cancelled now. If someone does, they see the request.
        const spec = (JSON.parse(row.state) as JobState).spec;
        const held = await lease(lockKey(row, spec));
        if (held) {
          try {
            const fresh = await call('getJob', () => table.get(id));
            if (fresh && UNFINISHED.includes(fresh.status)) {
              const state = JSON.parse(fresh.state) as JobState;
              state.finishedAt = core.clock();
              await call('updateJob', () =>
                table.update({ id, status: 'cancelled', updatedAt: core.clock(), state: JSON.stringify(state) }),
              );
            }
          } finally {
            await held.release();
          }
        }
      }
      const after = await call('getJob', () => table.get(id));
      return after && toInfo(after);
    },

    async get(id) {
      core.assertOpen();
      await core.ready();
      const row = await call('getJob', () => table.get(id));
      return row && toInfo(row);
    },

    async list(input: JobListInput = {}) {
      core.assertOpen();
      await core.ready();
      const limit = input.limit ?? 50;
      const offset = input.offset ?? 0;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badInput('limit', 'must be a whole number from 1 to 1000');
      if (!Number.isInteger(offset) || offset < 0) throw badInput('offset', 'must be a whole number, 0 or more');
      const status = input.status === undefined ? undefined : typeof input.status === 'string' ? [input.status] : [...input.status];
      const rows = await call('listJobs', () =>
        table.list({ ...(input.name !== undefined ? { name: input.name } : {}), ...(status ? { status } : {}), limit, offset }),
      );
      return rows.map(toInfo);
    },
  };

  return { api, runAdHoc, isClosed: (error: unknown) => isEventLogError(error, 'CLOSED') };
}

let sequence = 0;

/**
 * A job id that sorts by creation: the clock's milliseconds and a per-process sequence in hex, then a
 * random UUID, so jobs created in the same millisecond still list newest first (in one process).
 */
function newJobId(): string {
  sequence = (sequence + 1) % 0x10000;
  return `${Date.now().toString(16).padStart(12, '0')}-${sequence.toString(16).padStart(4, '0')}-${crypto.randomUUID()}`;
}

function badInput(field: string, message: string) {
  return new ValidationError([{ path: [field], message }]);
}
