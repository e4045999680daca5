import { performance } from 'node:perf_hooks';
import type { EventInput } from '@eventlog/core';

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export const now = (): number => performance.now();

/** The q-quantile (0..1) of samples, by linear interpolation. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lo = Math.floor(position);
  const hi = Math.ceil(position);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (position - lo);
}

export interface PairTiming {
  /** Wall-clock ms per run. */
  eventlog: number[];
  raw: number[];
  /** CPU ms (user + system) per run, which time spent descheduled on a busy machine does not inflate. */
  eventlogCpu: number[];
  rawCpu: number[];
}

export interface PairOptions {
  /** Untimed runs of each side first. */
  warmup: number;
  /** Timed runs of each side at least … */
  minIterations: number;
  /** … and at most. */
  maxIterations: number;
  /** Stop adding iterations (past the minimum) once both sides together took this long. */
  budgetMs: number;
}

/**
 * Times two implementations of the same query, interleaved (A B, B A, A B, …) so that load from
 * other processes on a shared machine hits both sides alike.
 */
export async function timePair(eventlog: () => Promise<unknown>, raw: () => Promise<unknown>, options: PairOptions): Promise<PairTiming> {
  for (let i = 0; i < options.warmup; i++) {
    await eventlog();
    await raw();
  }
  const timing: PairTiming = { eventlog: [], raw: [], eventlogCpu: [], rawCpu: [] };
  const started = now();
  for (let i = 0; i < options.maxIterations; i++) {
    if (i >= options.minIterations && now() - started > options.budgetMs) break;
    const order = i % 2 === 0 ? (['eventlog', 'raw'] as const) : (['raw', 'eventlog'] as const);
    for (const side of order) {
      const c0 = process.cpuUsage();
      const t0 = now();
      await (side === 'eventlog' ? eventlog() : raw());
      timing[side].push(now() - t0);
      const cpu = process.cpuUsage(c0);
      timing[side === 'eventlog' ? 'eventlogCpu' : 'rawCpu'].push((cpu.user + cpu.system) / 1000);
    }
  }
  return timing;
}

/** A writer issuing one insert every `intervalMs`, on schedule, without waiting for the previous one. */
export interface TimedWriter {
  /** Stops issuing, waits for inserts in flight, and returns each insert's wait (completion − scheduled time) in ms. */
  stop(): Promise<number[]>;
}

/**
 * Starts a writer. Each insert's wait is measured from the moment it was due, so time the event
 * loop spent blocked (a synchronous driver call) counts as waiting, as it would for a web request.
 */
export function startWriter(
  insert: (event: EventInput) => Promise<unknown>,
  make: (k: number) => EventInput,
  intervalMs = 10,
): TimedWriter {
  const t0 = now();
  const waits: number[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const errors: unknown[] = [];
  let k = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    if (stopped) return;
    const current = now();
    while (t0 + k * intervalMs <= current) {
      const due = t0 + k * intervalMs;
      const event = make(k++);
      const done: Promise<unknown> = insert(event).then(
        () => {
          waits.push(now() - due);
        },
        (error: unknown) => {
          errors.push(error);
        },
      );
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    }
    timer = setTimeout(tick, Math.max(0, t0 + k * intervalMs - now()));
  };
  tick();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...inFlight]);
      if (errors.length) throw new AggregateError(errors, `${errors.length} writer inserts failed`);
      return waits;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
