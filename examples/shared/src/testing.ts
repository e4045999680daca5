import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, type FilterInput } from '@eventlog/core';
import { EXAMPLE_RUN_ENV, processesTagged, type TaggedProcess } from './processes.js';

export { EXAMPLE_RUN_ENV, processesTagged, type TaggedProcess } from './processes.js';

/** How a process started by {@link launch} ended. */
export interface LaunchExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Everything the process (and whatever it started) printed, stdout and stderr interleaved. */
  output: string;
}

/** A command started by {@link launch}: the top process of its own process group. */
export interface Launched {
  child: ChildProcess;
  /** The top process; also the id of its process group. */
  pid: number;
  /** The value of `EVENTLOG_EXAMPLE_RUN` every process of this launch inherits. */
  tag: string;
  /** Everything printed so far. */
  output(): string;
  /** Resolves when the top process has exited and every process holding its output has let go. */
  exited: Promise<LaunchExit>;
  /** The processes started by this launch that are still alive (the top one included). */
  alive(): TaggedProcess[];
  /**
   * Sends `signal` to the top process only, as a supervisor does, waits for it to exit and then
   * for every process it started to be gone; SIGKILL goes to the whole tree at once. Rejects when
   * something is still alive after `graceMs` (after killing it).
   */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<LaunchExit>;
}

/** Options of {@link launch}. */
export interface LaunchOptions {
  cwd: string;
  env?: Record<string, string>;
}

/** A tag unique to one launch, under the test run's id when the vitest global setup set one. */
function newTag(): string {
  return `${process.env.EVENTLOG_TEST_RUN_ID ?? `local-${process.pid}`}.${randomBytes(4).toString('hex')}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills every process of a launch: its process group and anything that left it. */
function killTree(pid: number, tag: string): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is empty already
  }
  for (const left of processesTagged(tag)) {
    try {
      process.kill(left.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Starts a command in a process group of its own (so the whole tree can be stopped at once), with
 * every process in it tagged for the leftover check.
 */
export function launch(command: string, args: readonly string[], options: LaunchOptions): Launched {
  const tag = newTag();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: {
      ...process.env,
      // The scripts run `node`: make it the one running the tests.
      PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
      ...options.env,
      [EXAMPLE_RUN_ENV]: tag,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    text += chunk;
  });
  // 'close' comes after 'exit' once every process that inherited the pipes has exited too; a
  // child that keeps them open forever is caught by stop()'s grace period instead.
  const exited = new Promise<LaunchExit>((resolve) => {
    child.once('close', (code, signal) => resolve({ code, signal, output: text }));
  });
  const alive = () => processesTagged(tag);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<LaunchExit> => {
    if (signal === 'SIGKILL') killTree(pid, tag);
    else if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const deadline = Date.now() + graceMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), graceMs);
    });
    const done = await Promise.race([exited, timeout]);
    clearTimeout(timer);
    while (alive().length && Date.now() < deadline) await sleep(50);
    const left = alive();
    if (done && !left.length) return done;
    killTree(pid, tag);
    const lines = left.map((p) => `  ${p.pid} ${p.command}`).join('\n');
    throw new Error(
      `${command} ${args.join(' ')} did not end within ${graceMs} ms of ${signal}${left.length ? `; still running (now killed):\n${lines}` : ''}\n${text}`,
    );
  };
  return { child, pid, tag, output: () => text, exited, alive, stop };
}

/** An example started as a child process by {@link startExample}. */
export interface StartedExample {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /**
   * Sends a signal to the example's top process (SIGKILL: to its whole process tree), waits until
   * no process it started is left, and resolves with the exit code and everything printed.
   */
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
  /**
   * The command line to start, e.g. `[pnpm, 'start']`; by default the example's own `start`
   * script, run by `sh -c` as a package manager would (without the package manager around it).
   */
  command?: readonly [string, ...string[]];
}

/** A fresh directory for an example's SQLite file; remove it with the returned function. */
export function scratchDirectory(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `eventlog-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The `start` script of the example in `directory`. */
export function startScript(directory: string): string {
  const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  const script = manifest.scripts?.start;
  if (!script) throw new Error(`${directory}/package.json has no start script`);
  return script;
}

/** Waits for the "listening on" line of an example started with {@link launch}. */
export function waitForUrl(launched: Launched, what: string, timeoutMs = 90_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(launched.output());
      if (match) {
        settle();
        resolve(match[1]!.replace('//localhost:', '//127.0.0.1:'));
      }
    }, 50);
    const timer = setTimeout(() => {
      settle();
      launched.stop('SIGKILL').catch(() => undefined);
      reject(new Error(`${what} did not start in time:\n${launched.output()}`));
    }, timeoutMs);
    const settle = () => {
      clearInterval(poll);
      clearTimeout(timer);
    };
    void launched.exited.then(({ code, output }) => {
      settle();
      reject(new Error(`${what} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/**
 * Starts an example exactly as its `start` script does (in its own process group), on a free port,
 * and resolves once it prints its URL.
 */
export async function startExample(options: StartExampleOptions): Promise<StartedExample> {
  const [command, ...args] = options.command ?? ['/bin/sh', '-c', startScript(options.directory)];
  const launched = launch(command, args, {
    cwd: options.directory,
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      EVENTLOG_SEED_EVENTS: '200',
      EVENTLOG_LIVE_MS: '0',
      ...options.env,
    },
  });
  const url = await waitForUrl(launched, `the example in ${options.directory}`, options.timeoutMs);
  return {
    url,
    child: launched.child,
    output: launched.output,
    stop: async (signal) => {
      const { code, signal: by, output } = await launched.stop(signal);
      return { code, signal: by, output };
    },
  };
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

/** What {@link stopWithBufferedEvents} found. */
export interface BufferedStop {
  /** Exit code of the top process. */
  code: number | null;
  /** Events in the file when the server was ready. */
  before: number;
  /** Events the server reported as buffered when it stopped. */
  buffered: number;
  /** Events it reported as written since it started (buffered ones included). */
  written: number;
  /** Events in the file afterwards. */
  after: number;
  output: string;
}

/**
 * Starts an example with a long write-buffer linger and live traffic, stops it with SIGTERM sent to
 * its top process only, and returns what a test needs to prove nothing buffered was lost: the exit
 * code, the events stored before start, the events it reported as buffered at stop, and the events
 * in the file afterwards. `command` starts it another way than its bare `start` script (e.g.
 * through pnpm or npx); no process of it is left when this resolves.
 */
export async function stopWithBufferedEvents(
  directory: string,
  sqliteFile: string,
  during?: (example: StartedExample) => Promise<void>,
  command?: readonly [string, ...string[]],
): Promise<BufferedStop> {
  const example = await startExample({
    directory,
    env: { EVENTLOG_DB: sqliteFile, EVENTLOG_LINGER_MS: '600000', EVENTLOG_LIVE_MS: '100' },
    ...(command ? { command } : {}),
  });
  const before = Number(/\((\d+) events\)/.exec(example.output())?.[1] ?? Number.NaN);
  await sleep(800);
  await during?.(example);
  const { code, output } = await example.stop('SIGTERM');
  const buffered = Number(/flushed (\d+) buffered events/.exec(output)?.[1] ?? Number.NaN);
  const written = Number(/\((\d+) written since start\)/.exec(output)?.[1] ?? Number.NaN);
  return { code, before, buffered, written, after: await countEvents(sqliteFile), output };
}
