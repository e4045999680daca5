import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createEventLog, type EventInput, type EventLog, type Preset } from '@eventlog/core';
import { eventlogRouter, requestLogger } from '@eventlog/express';
import type { Profile } from '@eventlog/http';
import express from 'express';
import { env, envInt } from './env.js';
import { createRandom, type Random } from './random.js';
import { seedModules } from './seed.js';
import { openStore } from './store.js';
import { viewerBanner, viewerPresets, viewerProfiles } from './viewer.js';

/** What a module's seeder gets. */
export interface SeedContext {
  /** A log over the example's store (its own buffer, closed after seeding). */
  log: EventLog;
  /** How many bulk events to add on top of the fixed scenario (EVENTLOG_SEED_EVENTS). */
  size: number;
  /** Epoch ms the seed is anchored to: every seeded time is relative to it. */
  now: number;
  /** Seeded generator: the same data on every first start. */
  random: Random;
}

/** What a module's live-traffic tick gets. */
export interface LiveContext {
  log: EventLog;
  now: number;
  random: Random;
  /** 0, 1, 2, … */
  tick: number;
}

/** One product in an example server: its presets, profiles, seed data and banner. */
export interface ExampleModule {
  /** Short name, e.g. `new-api`. */
  name: string;
  /** Event types, dimensions and metrics its profiles read. */
  presets: readonly Preset[];
  /** The profiles to mount at the server's root, with credentials read from the environment. */
  profiles(): Profile[];
  /** Records the demo data on first start; resolves with the number of events recorded. */
  seed(context: SeedContext): Promise<number>;
  /** Records a little fresh traffic (keeps RPM/TPM and "today" figures alive); called every few seconds. */
  live?(context: LiveContext): Promise<void>;
  /** Lines printed at start: credentials and ready-to-paste curl commands against `base`. */
  banner(base: string): string[];
  /** Record the app's own requests with `requestLogger` (what the proxy profile serves). */
  logRequests?: boolean;
  /** Host routes of the module, mounted after the request logger and before the profiles. */
  setup?: (app: express.Express, log: EventLog) => void;
}

/** Options of {@link runExample}. */
export interface RunExampleOptions {
  /** Short name, used for the default SQLite file and the banner. */
  name: string;
  /** One line saying what the server is. */
  title: string;
  /** Port when PORT is unset. */
  defaultPort: number;
  /** Directory of the example; its `data/<name>.db` is the default store. */
  directory: string;
  modules: readonly ExampleModule[];
  /** Extra host routes and middleware, mounted after the request logger and before the profiles. */
  setup?: (app: express.Express, log: EventLog) => void;
  /** Extra profiles (e.g. the native API) and their banner lines. */
  extraProfiles?: () => Profile[];
  extraBanner?: (base: string) => string[];
  /** Accept event types no preset declares (the native API's ingest). @default false */
  allowUnknownTypes?: boolean;
  /** Run a retention task that prunes events older than this many days. */
  retentionDays?: number;
}

/** A running example, for tests that start one in-process. */
export interface RunningExample {
  url: string;
  log: EventLog;
  server: Server;
  /** Stops accepting requests, waits for those in flight, flushes the buffer and closes the store. */
  stop(): Promise<void>;
}

/**
 * Records events in chunks so that benchmark-sized seeds stay within memory. The next chunk is
 * generated while the previous one is being written, and chunks are large enough to be written in
 * one transaction each (small transactions are what made seeding slow).
 */
export async function recordInChunks(log: EventLog, events: Iterable<EventInput>, chunkSize = 10_000): Promise<number> {
  let chunk: EventInput[] = [];
  let total = 0;
  let writing: Promise<unknown> | null = null;
  for (const event of events) {
    chunk.push(event);
    if (chunk.length >= chunkSize) {
      await writing;
      writing = log.recordMany(chunk);
      // Awaited before the next chunk; this only keeps a failure from counting as unhandled meanwhile.
      writing.catch(() => undefined);
      total += chunk.length;
      chunk = [];
    }
  }
  await writing;
  if (chunk.length) {
    await log.recordMany(chunk);
    total += chunk.length;
  }
  return total;
}

/**
 * Starts an example server: opens the store from EVENTLOG_DB, seeds it on first start, mounts every
 * module's profiles at the root of an Express app, prints the URL, credentials and curl lines, keeps
 * some live traffic flowing, and on SIGTERM or SIGINT stops accepting requests, flushes buffered
 * events and exits 0.
 */
export async function runExample(options: RunExampleOptions): Promise<RunningExample> {
  const port = envInt('PORT', options.defaultPort, 0, 65_535);
  const host = env('HOST', '');
  const seedSize = envInt('EVENTLOG_SEED_EVENTS', 2000, 0, 50_000_000);
  const liveMs = envInt('EVENTLOG_LIVE_MS', 5000, 0);
  const lingerMs = envInt('EVENTLOG_LINGER_MS', 0, 0, 3_600_000);
  const opened = await openStore(process.env.EVENTLOG_DB, join(options.directory, 'data', `${options.name}.db`));
  const presets = [...new Set([...options.modules.flatMap((m) => m.presets), ...viewerPresets])];
  const logOptions = {
    store: opened.store,
    presets,
    ...(options.allowUnknownTypes ? { allowUnknownTypes: true } : {}),
    ...(options.retentionDays ? { retention: { maxAgeDays: options.retentionDays } } : {}),
  };
  const log = createEventLog({ ...logOptions, buffer: { lingerMs } });
  log.on('error', (error) => console.error(`[eventlog] ${error instanceof Error ? error.message : String(error)}`));
  let flushedRows = 0;
  log.on('flushed', ({ rows }) => {
    flushedRows += rows;
  });
  await log.ready();

  const existing = await log.count();
  if (existing === 0) {
    const started = Date.now();
    console.log(`first start: seeding demo data (${seedSize} bulk events per API, EVENTLOG_SEED_EVENTS)…`);
    // A separate log over the same store: seeding is not held up by a long EVENTLOG_LINGER_MS.
    const seedLog = createEventLog({ ...logOptions, closeStore: false });
    const seeded = await seedModules(seedLog, options.modules, seedSize, Date.now());
    await seedLog.close();
    console.log(`seeded ${seeded} events in ${Date.now() - started} ms`);
  }

  // Retention runs once now and then every six hours; close() stops it.
  if (options.retentionDays) log.startMaintenance({ intervalMs: 6 * 3_600_000 });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  // The proxy example lists its own traffic, API reads included, so it keeps the log API's requests.
  if (options.modules.some((m) => m.logRequests)) app.use(requestLogger({ log, skipEventlog: false }));
  for (const module of options.modules) module.setup?.(app, log);
  options.setup?.(app, log);
  const mounted = [...options.modules.flatMap((m) => m.profiles()), ...(options.extraProfiles?.() ?? [])];
  // Every example serves the log viewer (and the native API it reads, when the example has none).
  const profiles = [...mounted, ...viewerProfiles(`eventlog ${options.name} example`, mounted)];
  app.use(eventlogRouter({ log, profiles }));

  const server: Server = await new Promise((resolve, reject) => {
    const s = host ? app.listen(port, host) : app.listen(port);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host && host !== '0.0.0.0' && host !== '::' ? host : 'localhost'}:${address.port}`;

  const total = await log.count();
  let tick = 0;
  let liveRun: Promise<void> | null = null;
  const liveRandom = createRandom(0x11fe);
  const timer = liveMs
    ? setInterval(() => {
        // One tick at a time: a slow store (or a long linger) skips ticks instead of piling them up.
        if (liveRun) return;
        const context = { log, now: Date.now(), random: liveRandom, tick: tick++ };
        liveRun = (async () => {
          for (const module of options.modules) await module.live?.(context).catch((error: unknown) => log.emit('error', error));
        })().finally(() => {
          liveRun = null;
        });
      }, liveMs)
    : null;
  timer?.unref();

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      if (timer) clearInterval(timer);
      const buffered = log.pendingWrites;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Live tails never end by themselves: give them a moment, then cut them.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      // Buffer timers are unref'd: hold the process open until everything is written.
      const keepAlive = setInterval(() => undefined, 1000);
      try {
        // A live tick may be waiting on buffered writes and then write more: flush until it is done.
        while (liveRun) {
          await log.flush();
          await Promise.race([liveRun, new Promise((resolve) => setTimeout(resolve, 20))]);
        }
        await log.close();
      } finally {
        clearInterval(keepAlive);
      }
      console.log(`flushed ${buffered} buffered events (${flushedRows} written since start); store closed`);
    })();
    return stopping;
  };

  const lines = [
    '',
    `${options.title}`,
    `eventlog ${options.name} example listening on ${url}`,
    `store: ${opened.description} (${total} events)${process.env.PORT ? '' : `; PORT=${options.defaultPort} by default`}`,
    '',
    ...options.modules.flatMap((m) => m.banner(url)),
    ...(options.extraBanner?.(url) ?? []),
    ...(await viewerBanner(url)),
    'Stop with Ctrl+C: buffered events are flushed before the process exits.',
    '',
  ];
  console.log(lines.join('\n'));
  return { url, log, server, stop };
}

/**
 * Runs an example as the main program: exits 0 after a clean stop on SIGTERM or SIGINT, 1 when it
 * cannot start or stop.
 */
export function main(options: RunExampleOptions): void {
  let running: RunningExample | null = null;
  let requested: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    // A signal during startup is honoured once the server is up, so the store is never left half-open.
    if (!running) {
      requested ??= signal;
      return;
    }
    console.log(`\n${signal}: stopping`);
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('could not stop cleanly:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  followLauncher(() => {
    console.log('\nthe command that started this server has exited');
    onSignal('SIGTERM');
  });
  runExample(options).then(
    (started) => {
      running = started;
      if (requested) onSignal(requested);
    },
    (error: unknown) => {
      console.error(`the ${options.name} example could not start:`, error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}

interface ProcStat {
  /** R, S, D, Z (exited, not yet reaped), … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Start time in clock ticks since boot: tells a process from a later one that reuses its pid. */
  start: string;
}

function procStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields after it are fixed.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]), start: fields[19] ?? '' };
  } catch {
    return null;
  }
}

/**
 * Calls `onGone` once when the command that launched this server exits. `npx` and `pnpm` run
 * scripts through `sh -c`, and a shell that stays the parent dies from SIGTERM without passing it
 * on, so when a supervisor signals only the top process (`docker stop`, a process manager, or a
 * test) the server would never hear of it and be killed later with its buffer unwritten. The top
 * process is the leader of the server's process group; while it is one of this process's
 * ancestors, its exit is treated like SIGTERM. Linux only (it reads /proc); elsewhere, and when
 * the server leads its own group (started directly by a supervisor), signals arrive directly.
 */
function followLauncher(onGone: () => void): void {
  if (process.platform !== 'linux') return;
  const own = procStat(process.pid);
  if (!own || own.pgrp === process.pid) return;
  let leader: ProcStat | null = null;
  for (let pid = own.ppid, hops = 0; pid > 1 && hops < 64; hops++) {
    const stat = procStat(pid);
    if (!stat) return;
    if (pid === own.pgrp) {
      leader = stat;
      break;
    }
    pid = stat.ppid;
  }
  if (!leader) return;
  const { start } = leader;
  const timer = setInterval(() => {
    const now = procStat(own.pgrp);
    if (now && now.start === start && now.state !== 'Z') return;
    clearInterval(timer);
    onGone();
  }, 250);
  timer.unref();
}

/** Quotes a value for a POSIX shell command line. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
