import type { ArchiveOptions, DeleteQuery, FilterInput, JobInfo } from '@eventlog/core';
import type { Command } from 'commander';
import { Option } from 'commander';
import type { CliContext } from '../context.js';
import { CliError, EXIT_INTERRUPTED, UsageError } from '../errors.js';
import { buildFilter, type FilterFlags, parsePositiveInt, parseTime } from '../filters.js';
import { createProgress, formatCount, type ProgressMode, progressMode } from '../progress.js';
import { type CommandKit, examples, filterOptions, storeOptions } from './kit.js';

/** Options of {@link pruneEvents}. */
export interface PruneOptions {
  before: number;
  filter: FilterInput;
  dryRun: boolean;
  batchSize?: number;
  pauseMs?: number;
  /** Archive the deleted events first (export before delete). */
  archive?: ArchiveOptions;
  progress: ProgressMode;
  signal: AbortSignal;
}

/** The filter `prune` deletes: the given filter, with `before` as the upper time bound. */
export function pruneFilter(before: number, filter: FilterInput): FilterInput {
  const until = filter.until === undefined ? before : Math.min(before, Number(filter.until));
  return { ...filter, until };
}

/**
 * Deletes the matching events older than `before` as a retention job (`log.jobs.prune`: bounded
 * batches, recorded in the jobs table, optionally archived first), holding the store's retention
 * lock so two prunes or a prune and the library's scheduled retention never run at once. A dry run
 * counts the same selection and deletes nothing.
 */
export async function pruneEvents(
  ctx: CliContext,
  options: PruneOptions,
): Promise<{ count: number; total: number; interrupted: boolean; job: JobInfo }> {
  const { log, store } = ctx;
  const input = {
    before: options.before,
    filter: options.filter,
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    ...(options.pauseMs !== undefined ? { pauseMs: options.pauseMs } : {}),
  };
  if (options.dryRun) {
    const job = await log.jobs.prune({ ...input, dryRun: true });
    return { count: job.dryRunCount ?? 0, total: job.dryRunCount ?? 0, interrupted: false, job };
  }
  const release = await store.tryLock('retention', 10 * 60_000);
  if (!release) throw new CliError('Another prune or retention run holds the lock on this store; try again when it has finished.');
  const total = await log.count(pruneFilter(options.before, options.filter));
  const progress = createProgress({ label: 'prune', unit: 'count', itemName: undefined, total, mode: options.progress });
  // Counting what each delete batch removes gives the progress without extra queries.
  const original = store.delete.bind(store);
  let deleted = 0;
  store.delete = async (query: DeleteQuery) => {
    const n = await original(query);
    deleted += n;
    progress.update(Math.min(deleted, total));
    return n;
  };
  try {
    const job = await log.jobs.prune({ ...input, signal: options.signal, ...(options.archive ? { archive: options.archive } : {}) });
    return { count: job.processed, total: job.total ?? total, interrupted: job.status === 'cancelled', job };
  } finally {
    store.delete = original;
    progress.stop();
    await release();
  }
}

/** Adds `eventlog prune`. */
export function registerPrune(program: Command, { io, finish, withContext }: CommandKit): void {
  filterOptions(
    storeOptions(
      program.command('prune').description('delete events older than a time, as a retention job, in batches that keep writers responsive'),
    ),
  )
    .requiredOption('--before <time>', 'delete events older than this: a duration back from now (30d) or a time')
    .option('--dry-run', 'print how many events would be deleted, delete nothing')
    .option('--archive <dir>', 'write the events to a gzip archive in this directory before deleting them')
    .addOption(new Option('--archive-format <format>', 'archive format').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--batch <n>', 'rows per delete batch (default: the store’s)')
    .option('--pause <ms>', 'pause between batches so writers get the database', '5')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      examples([
        'eventlog prune --before 30d --dry-run',
        'eventlog prune --before 90d --type proxy.request',
        'eventlog prune --before 400d --archive /var/backups/eventlog --archive-format csv',
        'eventlog prune --before 2026-01-01 --tenant 42 --db postgres://app@db/app',
      ]) +
        '\nOnly one prune (or library retention run) works on a store at a time; a second one exits with 1.\n' +
        'Each run is recorded as a job: see `eventlog jobs`.\n',
    )
    .action(async (opts) => {
      const now = Date.now();
      const before = parseTime(opts.before, now, '--before');
      const batchSize = opts.batch ? parsePositiveInt(opts.batch, '--batch', 100_000) : undefined;
      const pauseMs = Number(opts.pause);
      if (!Number.isFinite(pauseMs) || pauseMs < 0) throw new UsageError('--pause must be a number of milliseconds.');
      await withContext(opts, async (ctx) => {
        const filter = buildFilter(opts as FilterFlags, now);
        const result = await pruneEvents(ctx, {
          before,
          filter,
          dryRun: opts.dryRun === true,
          ...(batchSize ? { batchSize } : {}),
          pauseMs,
          ...(opts.archive ? { archive: { directory: String(opts.archive), format: opts.archiveFormat as 'jsonl' | 'csv' } } : {}),
          progress: progressMode(opts.quiet),
          signal: io.signal,
        });
        const when = new Date(before).toISOString();
        if (opts.json) io.out(`${JSON.stringify({ dryRun: opts.dryRun === true, before: when, ...result })}\n`);
        else if (opts.dryRun) io.out(`${result.count}\n`);
        else {
          io.out(`Deleted ${formatCount(result.count)} events older than ${when} (job ${result.job.id}).\n`);
          const archive = result.job.archive;
          if (archive?.file) io.out(`Archived ${formatCount(archive.rows)} events to ${archive.file} (sha256 ${archive.sha256}).\n`);
        }
        if (result.interrupted) {
          io.err(`Interrupted: ${formatCount(result.count)} of ${formatCount(result.total)} events deleted; run it again to finish.\n`);
          finish(EXIT_INTERRUPTED);
        }
      });
    });
}
