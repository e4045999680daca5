/** Warnings about unheard `error` events are printed at most this often. */
const INTERVAL_MS = 60_000;

/**
 * Builds the reporter for `error` events that nobody listens to: one line on stderr at most once a
 * minute, naming the error and how to listen, with the count of the ones it kept quiet about since.
 * Without it a failing store under a background writer would lose events with no output at all.
 * @internal
 */
export function createUnhandledErrorWarning(clock: () => number, write: (line: string) => void = writeStderr): (error: unknown) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error) => {
    const now = clock();
    if (now - lastAt < INTERVAL_MS) {
      suppressed++;
      return;
    }
    const more = suppressed > 0 ? ` (${suppressed} more since the last warning were not shown)` : '';
    lastAt = now;
    suppressed = 0;
    write(
      `eventlog: an 'error' event had no listener: ${describe(error)}${more}. ` +
        "Listen with log.on('error', (error) => { ... }) to handle these; this warning repeats at most once a minute.",
    );
  };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
  }
  return String(error);
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
