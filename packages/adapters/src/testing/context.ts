import type { EventInput, EventLog, EventLogOptions, StorageAdapter } from '@eventlog/core';

/** Options of the log a conformance test builds on a fresh store. */
export type LogOptions = Omit<EventLogOptions, 'store'>;

/** The consumption event most conformance tests record. */
export type Usage = EventInput<'llm.consumption', { other?: Record<string, unknown> } | undefined>;

/** A log over the conformance preset. */
export type ConformanceLog = EventLog;

/** A fresh store with a ready log on it and the log's clock. */
export interface Fixture {
  log: ConformanceLog;
  store: StorageAdapter;
  clock: { now: number };
}

/**
 * What `runStoreConformance` hands each part of the suite: a `test` that honours known gaps, a
 * fixture builder, event builders, and `track` for anything else to close after the test.
 */
export interface SuiteContext {
  /** Registers a test, or an expected failure when the store names it as a known gap. */
  test(title: string, fn: () => Promise<void>, timeoutMs?: number): void;
  /** A fresh store (from `createStore`) with a ready log on it. */
  setup(logOptions?: LogOptions): Promise<Fixture>;
  /** A fresh store (from `createStore`) that nothing has migrated, closed after the test. */
  freshStore(): Promise<StorageAdapter>;
  /** The i-th consumption event of the standard fill, with overrides. */
  usage(i: number, overrides?: Partial<Usage>): Usage;
  /** Records `usage(0)` … `usage(n - 1)` in one batch. */
  fill(log: ConformanceLog, n: number): Promise<Usage[]>;
  /** Closes this (a log or a store) after the current test. */
  track(closer: { close(): Promise<void> }): void;
}
