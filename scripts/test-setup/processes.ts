/**
 * Vitest global setup: fails a test run that leaves a process behind. Every process the e2e
 * helpers start (`examples/shared/src/testing.ts`) carries `EVENTLOG_EXAMPLE_RUN=<run id>.<n>` in
 * its environment, and so does everything it starts in turn; after the run, any such process still
 * alive is listed, killed, and the run fails.
 */
import { randomBytes } from 'node:crypto';
import { processesTagged } from '../../examples/shared/src/processes.js';

/** Gives the run its id; the returned teardown checks that no process of the run is left. */
export default function setup(): () => Promise<void> {
  const runId = `run-${process.pid}-${randomBytes(4).toString('hex')}`;
  process.env.EVENTLOG_TEST_RUN_ID = runId;
  return async () => {
    // A process stopped by the last test may take a moment to be gone.
    let left = processesTagged(`${runId}.`, true);
    for (let i = 0; left.length && i < 50; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = processesTagged(`${runId}.`, true);
    }
    if (!left.length) return;
    for (const { pid } of left) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    console.error(
      `\n[eventlog] the test run left ${left.length} process(es) behind (now killed):\n${left.map((p) => `  ${p.pid} ${p.command}`).join('\n')}`,
    );
    process.exitCode = 1;
  };
}
