/** Exit code of a command that failed (a store error, an unreadable file). */
export const EXIT_FAILURE = 1;
/** Exit code of a command called wrongly (an unknown flag, a bad value). */
export const EXIT_USAGE = 2;
/** Exit code after Ctrl+C, as shells report a process ended by SIGINT. */
export const EXIT_INTERRUPTED = 130;

/**
 * A failure the user can act on; the message is printed without a stack trace and the process exits with `exitCode`.
 *
 * @example
 * ```ts
 * import { CliError } from '@eventlog/cli';
 * throw new CliError('Cannot read access.log: no such file.');
 * ```
 */
export class CliError extends Error {
  /** The process exit code. */
  readonly exitCode: number;

  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

/**
 * A command called wrongly: a bad flag value or a missing argument (exit code 2).
 *
 * @example
 * ```ts
 * import { UsageError } from '@eventlog/cli';
 * throw new UsageError('--since: "yesterdayish" is not a duration or a time.');
 * ```
 */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, { exitCode: EXIT_USAGE });
    this.name = 'UsageError';
  }
}
