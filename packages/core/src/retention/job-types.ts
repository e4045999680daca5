import type { FilterInput, TimeInput } from '../filter/filter.js';
import type { JobStatus } from '../storage/contract.js';

/**
 * Something an archive can be written to: a Node `Writable` (a file stream, an upload) fits. The
 * archive waits for each write's callback before it deletes the rows written.
 */
export interface ArchiveStream {
  write(chunk: Uint8Array, callback: (error?: Error | null) => void): boolean;
}

/**
 * Export before delete: what a job writes before it removes rows. Rows are written oldest first;
 * each batch is flushed (a file is synced to disk) and recorded in the job before its rows are
 * deleted.
 */
export interface ArchiveOptions {
  /** `jsonl` (one stored event per line, as `query()` returns it) or `csv` (the default export columns). @default 'jsonl' */
  format?: 'jsonl' | 'csv';
  /** Gzip the archive (one gzip member per batch; any gunzip reads the concatenation). @default true */
  gzip?: boolean;
  /** Write to a file `<name>-<job id>.<format>[.gz]` in this directory (created if missing). */
  directory?: string;
  /**
   * Write to a stream the host provides instead of a directory. A job resumed in another process
   * calls it again and continues there; the checksum then covers only the bytes this process wrote.
   */
  stream?: (job: JobInfo) => ArchiveStream;
}

/** What a policy matches on: each given field is one value or a list; all given fields must match. */
export interface PolicyMatch {
  tenantId?: string | readonly string[];
  type?: string | readonly string[];
  category?: string | readonly string[];
}

/** The facts a policy predicate decides on: one distinct (tenant, type, category) of stored events. */
export interface PolicySubject {
  tenantId: string | null;
  type: string;
  category: string | null;
}

/**
 * A retention rule: events matching `match` are deleted (or, with `action: 'expireData'`, lose
 * their `data`) once older than `maxAgeDays`. Among delete policies an event belongs to the first
 * that matches it, so a later or default policy never deletes another policy's events.
 */
export interface RetentionPolicy {
  /** Unique name; jobs and locks are named after it. */
  name: string;
  /** Which events: fields to match, or a predicate over each distinct (tenant, type, category). @default every event */
  match?: PolicyMatch | ((subject: PolicySubject) => boolean);
  /** Age in days after which the policy acts. */
  maxAgeDays: number;
  /** `delete` the events, or `expireData`: drop their `data` (or `fields`) and keep the rows. @default 'delete' */
  action?: 'delete' | 'expireData';
  /** With `expireData`: paths into data such as `data.user.email`. @default the whole payload */
  fields?: readonly string[];
  /** Archive what a delete policy removes, before removing it. */
  archive?: ArchiveOptions;
}

/** A job's archive record. */
export interface JobArchive {
  format: 'jsonl' | 'csv';
  gzip: boolean;
  /** The file written (directory archives), else null. */
  file: string | null;
  /** Rows written to the archive. */
  rows: number;
  /** Bytes written to the archive. */
  bytes: number;
  /** SHA-256 (hex) of the archive's bytes, once the job has finished; null before, or when a stream archive was resumed elsewhere. */
  sha256: string | null;
}

/** The observable state of a retention job. */
export interface JobInfo {
  id: string;
  /** The policy's name, or `prune` / `expireData` for ad-hoc jobs. */
  name: string;
  /** What the job does to the rows it selects. */
  kind: 'delete' | 'expireData';
  status: JobStatus;
  /** A dry run counts what it would touch and changes nothing. */
  dryRun: boolean;
  /** Rows selected when the job started (null until counted). */
  total: number | null;
  /** Rows deleted or changed so far. */
  processed: number;
  /** `total - processed`, at least 0 (null until counted). */
  remaining: number | null;
  /** What a dry run found (null for real runs). */
  dryRunCount: number | null;
  /** Events strictly older than this (epoch ms) are selected. */
  before: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  /** Why the job failed. */
  error: string | null;
  /** A cancel was asked for; the job stops after its current batch. */
  cancelRequested: boolean;
  archive: JobArchive | null;
  /** Delete jobs on a log with hash chains: where each tenant's chain let the job delete up to (null otherwise). */
  chains: JobChainRetention | null;
}

/**
 * How a delete job on a chained log (`integrity` option) treated chained events: it deletes a
 * chained event only when the event's chain segment is sealed and every event still stored in that
 * segment is selected too, and only in an unbroken run from the start of the chain, so that each
 * tenant's chain keeps verifying and the checkpoints of deleted segments prove what was deleted.
 */
export interface JobChainRetention {
  /** Chained events the job selected but keeps (newer than the boundary of their tenant's chain). */
  kept: number;
  /** One entry per tenant with sealed segments (at most 1,000; `truncated` says when more were left out). */
  tenants: {
    tenantId: string | null;
    /** Chained events at positions up to this one are deleted (0: none). */
    throughSeq: number;
    /**
     * Why the job stopped there, when it selected chained events after `throughSeq`: the next
     * segment is `unsealed` (no checkpoint yet) or only `partial`ly selected (some of its events are
     * newer or do not match).
     */
    stoppedBy: 'unsealed' | 'partial' | null;
  }[];
  truncated: boolean;
}

/** Input of `log.jobs.prune()`: an ad-hoc delete run as a job. */
export interface PruneJobInput {
  /** Delete events strictly older than this. */
  before: TimeInput;
  /** Only events that also match this filter. */
  filter?: FilterInput;
  /** Count what would be deleted and delete nothing. */
  dryRun?: boolean;
  /** Archive the rows before deleting them. */
  archive?: ArchiveOptions;
  /** Rows per batch. @default the retention option, else the store's `deleteBatchSize` */
  batchSize?: number;
  /** Pause between batches. @default the retention option, else 5 */
  pauseMs?: number;
  /** Stops between batches when aborted (the job ends `cancelled`). */
  signal?: AbortSignal;
}

/** Input of `log.jobs.list()`. */
export interface JobListInput {
  /** Only jobs of this policy (or `prune` / `expireData`). */
  name?: string;
  /** Only jobs in these states. */
  status?: JobStatus | readonly JobStatus[];
  /** @default 50 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

/** Options of a policy run. */
export interface PolicyRunOptions {
  /** Count what the policy would touch and change nothing. */
  dryRun?: boolean;
  /** Stops between batches when aborted (the job ends `cancelled`). */
  signal?: AbortSignal;
}

/** Retention jobs: run policies and ad-hoc prunes as observable, resumable, cancellable jobs. */
export interface JobsApi {
  /**
   * Runs a policy of `options.retention` as a job (the default policy is named `default`),
   * continuing its unfinished job if one exists; resolves null when another process runs it now.
   */
  runPolicy(name: string, options?: PolicyRunOptions): Promise<JobInfo | null>;
  /** Runs an ad-hoc delete as a job and resolves its final state. */
  prune(input: PruneJobInput): Promise<JobInfo>;
  /** Continues every unfinished job no other process holds (after a crash or restart); resolves their final states. */
  resume(): Promise<JobInfo[]>;
  /**
   * Cancels a job: a running one stops after its current batch (in any process), one left behind
   * by a dead process is marked cancelled at once. Resolves the job's state, or null for an unknown id.
   */
  cancel(id: string): Promise<JobInfo | null>;
  /** One job's state, or null. */
  get(id: string): Promise<JobInfo | null>;
  /** Job history, newest first. */
  list(input?: JobListInput): Promise<JobInfo[]>;
}
