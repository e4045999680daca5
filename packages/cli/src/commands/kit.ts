import type { Command } from 'commander';
import type { CliContext, GlobalOptions, openContext } from '../context.js';
import { collect, collectRaw } from '../filters.js';
import type { ProgramIo } from '../program.js';

/** The help text block of examples every command ends with. */
export const examples = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

/** Adds the options every store command takes. */
export function storeOptions(command: Command): Command {
  return command
    .option('--db <store>', 'store: a file path (SQLite), postgres://…, mysql://…, clickhouse://… or http://… (env EVENTLOG_DB)')
    .option('--config <file>', 'config file with your own types and presets (default: ./eventlog.config.ts or .js)')
    .option('-q, --quiet', 'no progress and no chatter, only results and errors');
}

/** Adds the event filter options. */
export function filterOptions(command: Command, timeFlags = true): Command {
  if (timeFlags) {
    command
      .option('--since <time>', 'from this time: a duration back from now (7d, 12h, 30m) or an ISO 8601 time')
      .option('--until <time>', 'before this time (same forms as --since)');
  }
  return command
    .option('--type <type>', 'event type; repeat or comma-separate for several', collect)
    .option('--category <category>', 'category; repeatable', collect)
    .option('--tenant <id>', 'tenant id; repeatable', collect)
    .option('--actor <id>', 'actor id; repeatable', collect)
    .option('--outcome <outcome>', 'outcome (ALLOWED, BLOCKED, success…); repeatable', collect)
    .option('--ip <address>', 'client IP address; repeatable', collect)
    .option('--search <text>', 'case-insensitive substring of the message, type or action')
    .option('--dim <key=value>', 'a declared dimension equals a value, e.g. status_code=403; repeatable', collectRaw);
}

/** What a command module needs from the program: output, the exit code, and an opened log. */
export interface CommandKit {
  io: ProgramIo;
  finish(code: number): void;
  withContext<T>(options: GlobalOptions, run: (ctx: CliContext) => Promise<T>, extra?: Parameters<typeof openContext>[1]): Promise<T>;
}
