import type { JobInfo, JobStatus } from '@eventlog/core';
import type { Command } from 'commander';
import { CliError, UsageError } from '../errors.js';
import { collect, parsePositiveInt } from '../filters.js';
import { table } from '../format.js';
import { type CommandKit, examples, storeOptions } from './kit.js';

const STATUSES: readonly JobStatus[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled'];

const when = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());

/** The job history as a table. */
export function jobsTable(jobs: readonly JobInfo[]): string {
  return table(
    ['id', 'name', 'status', 'processed', 'total', 'started', 'finished', 'archive'],
    jobs.map((j) => [
      j.id,
      j.dryRun ? `${j.name} (dry run)` : j.name,
      j.error ? `${j.status}: ${j.error}` : j.status,
      j.dryRun ? (j.dryRunCount ?? 0) : j.processed,
      j.total ?? '',
      when(j.startedAt),
      when(j.finishedAt),
      j.archive?.file ?? '',
    ]),
  );
}

/** Adds `eventlog jobs`: the retention job history, cancel, and resume. */
export function registerJobs(program: Command, { io, withContext }: CommandKit): void {
  storeOptions(
    program.command('jobs').description('list retention jobs (prunes, policies), cancel one, or resume those a dead process left'),
  )
    .option('--name <name>', 'only jobs of this policy (or prune / expireData)')
    .option('--status <status>', `only jobs in this state (${STATUSES.join(', ')}); repeatable`, collect)
    .option('--limit <n>', 'how many jobs, newest first', '20')
    .option('--cancel <id>', 'cancel this job: a running one stops after its current batch')
    .option('--resume', 'continue every unfinished job that no other process holds')
    .option('--json', 'print JSON for scripts')
    .addHelpText(
      'after',
      examples(['eventlog jobs', 'eventlog jobs --status running --json', 'eventlog jobs --cancel 0b5c…', 'eventlog jobs --resume']),
    )
    .action(async (opts) => {
      const limit = parsePositiveInt(opts.limit, '--limit', 1000);
      const status = (opts.status as string[] | undefined)?.flatMap((s) => s.split(','));
      for (const s of status ?? []) {
        if (!STATUSES.includes(s as JobStatus)) throw new UsageError(`--status: "${s}" is not one of ${STATUSES.join(', ')}.`);
      }
      await withContext(opts, async (ctx) => {
        let jobs: JobInfo[];
        if (opts.cancel) {
          const job = await ctx.log.jobs.cancel(String(opts.cancel));
          if (!job) throw new CliError(`There is no job ${opts.cancel}.`);
          jobs = [job];
        } else if (opts.resume) {
          jobs = await ctx.log.jobs.resume();
        } else {
          jobs = await ctx.log.jobs.list({
            limit,
            ...(opts.name ? { name: String(opts.name) } : {}),
            ...(status ? { status: status as JobStatus[] } : {}),
          });
        }
        if (opts.json) io.out(`${JSON.stringify(jobs)}\n`);
        else io.out(jobs.length ? `${jobsTable(jobs)}\n` : opts.resume ? 'No unfinished jobs.\n' : 'No jobs.\n');
      });
    });
}
