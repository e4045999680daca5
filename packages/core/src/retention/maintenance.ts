import type { LogCore } from '../core.js';
import { EventLogError, isEventLogError } from '../errors.js';
import type { Maintenance } from '../types.js';
import type { JobsApi, RetentionPolicy } from './job-types.js';

/**
 * The scheduled retention task: one pass per interval, run only by the process that takes the
 * store's `retention` lock, its timer unref'd so it never keeps a host alive. A pass first resumes
 * jobs left unfinished by a dead process, then runs every policy as a job. @internal
 */
export function createMaintenanceScheduler(core: LogCore, jobs: Omit<JobsApi, 'prune'>, policies: readonly RetentionPolicy[]) {
  const running = new Set<Maintenance>();

  function start(options: { intervalMs?: number; runOnStart?: boolean } = {}): Maintenance {
    core.assertOpen();
    const retention = core.options.retention;
    if (!retention)
      throw new EventLogError('UNSUPPORTED', 'startMaintenance needs the retention option, e.g. { retention: { maxAgeDays: 30 } }.');
    const intervalMs = options.intervalMs ?? 3_600_000;
    let pass: Promise<number> | null = null;
    const run = () => {
      pass ??= (async () => {
        const release = await core.guard('tryLock', () => core.defaults.tryLock('retention', Math.max(intervalMs, 60_000)));
        if (!release) return 0;
        try {
          let deleted = 0;
          for (const job of await jobs.resume()) if (job.kind === 'delete') deleted += job.processed;
          for (const policy of policies) {
            const job = await jobs.runPolicy(policy.name);
            if (job?.kind === 'delete') deleted += job.processed;
          }
          return deleted;
        } finally {
          await release();
        }
      })().finally(() => {
        pass = null;
      });
      return pass;
    };
    const background = () => {
      run().catch((error) => {
        // A pass cut short by close() is not a failure worth reporting.
        if (!isEventLogError(error, 'CLOSED')) core.report('error', error);
      });
    };
    const timer = setInterval(background, intervalMs);
    timer.unref?.();
    if (options.runOnStart !== false) background();
    const maintenance: Maintenance = {
      run,
      stop: async () => {
        clearInterval(timer);
        running.delete(maintenance);
        await pass?.catch(() => undefined);
      },
    };
    running.add(maintenance);
    return maintenance;
  }

  /** Stops every running task and waits for their passes. */
  async function stopAll(): Promise<void> {
    await Promise.all([...running].map((m) => m.stop()));
  }

  return { start, stopAll };
}
