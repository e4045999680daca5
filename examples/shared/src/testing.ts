import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type FilterInput } from '@eventlog/core';

/** An example started as a child process by {@link startExample}. */
export interface StartedExample {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends a signal and resolves with the exit code and everything printed. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

/** Options of {@link startExample}. */
export interface StartExampleOptions {
  /** The example's directory (where `pnpm start` runs). */
  directory: string;
  /** Extra environment; PORT=0, a fresh SQLite file, a small seed and no live traffic by default. */
  env?: Record<string, string>;
  /** How long to wait for the "listening on" line. @default 90000 */
  timeoutMs?: number;
}

const require = createRequire(import.meta.url);

/** A fresh directory for an example's SQLite file; remove it with the returned function. */
export function scratchDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `eventlog-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Starts an example exactly as its `start` script does (`tsx --tsconfig ../../tsconfig.json
 * src/main.ts` in its directory) on a free port, and resolves once it prints its URL.
 */
export function startExample(options: StartExampleOptions): Promise<StartedExample> {
  const cli = require.resolve('tsx/cli');
  const child = spawn(process.execPath, [cli, '--tsconfig', '../../tsconfig.json', 'src/main.ts'], {
    cwd: options.directory,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      EVENTLOG_SEED_EVENTS: '200',
      EVENTLOG_LIVE_MS: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const result = await exited;
    return { ...result, output: text };
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the example in ${options.directory} did not start in time:\n${text}`));
    }, options.timeoutMs ?? 90_000);
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve({ url: match[1]!.replace('//localhost:', '//127.0.0.1:'), child, output: () => text, stop });
      }
    }, 50);
    void exited.then(({ code }) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`the example in ${options.directory} exited with ${code} before it was ready:\n${text}`));
    });
  });
}

/** Counts the events in an example's SQLite file (after the example stopped). */
export async function countEvents(sqliteFile: string, filter?: FilterInput): Promise<number> {
  const log = createEventLog({ store: createSqliteStore({ filename: sqliteFile }), allowUnknownTypes: true, migrate: false });
  try {
    return await log.count(filter);
  } finally {
    await log.close();
  }
}

/**
 * Starts an example with a long write-buffer linger and live traffic, stops it with SIGTERM, and
 * returns what a test needs to prove nothing buffered was lost: the exit code, the events stored
 * before start, the events it reported as buffered at stop, and the events in the file afterwards.
 */
export async function stopWithBufferedEvents(
  directory: string,
  sqliteFile: string,
  during?: (example: StartedExample) => Promise<void>,
): Promise<{ code: number | null; before: number; buffered: number; after: number; output: string }> {
  const example = await startExample({
    directory,
    env: { EVENTLOG_DB: sqliteFile, EVENTLOG_LINGER_MS: '600000', EVENTLOG_LIVE_MS: '100' },
  });
  const before = Number(/\((\d+) events\)/.exec(example.output())?.[1] ?? Number.NaN);
  await new Promise((resolve) => setTimeout(resolve, 800));
  await during?.(example);
  const { code, output } = await example.stop('SIGTERM');
  const buffered = Number(/flushed (\d+) buffered events/.exec(output)?.[1] ?? Number.NaN);
  return { code, before, buffered, after: await countEvents(sqliteFile), output };
}
