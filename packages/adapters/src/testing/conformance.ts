import { createEventLog, type StorageAdapter } from '@eventlog/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { Fixture, LogOptions, SuiteContext, Usage } from './context.js';
import { conformancePreset, MINUTE, NOW } from './fixtures.js';
import { abortSuite } from './suites/abort.js';
import { contractSuite } from './suites/contract.js';
import { hooksSuite } from './suites/hooks.js';
import { type IntegritySuiteOptions, integritySuite } from './suites/integrity.js';
import { jobsSuite } from './suites/jobs.js';
import { readsSuite } from './suites/reads.js';
import { retentionSuite } from './suites/retention.js';
import { rollupsSuite } from './suites/rollups.js';
import { statsSuite } from './suites/stats.js';
import { writesSuite } from './suites/writes.js';

/** A store built on a client the host owns, for the "never close the host's client" rule. */
export interface HostClientFixture {
  /** A store on a client (pool, database handle) that the test, not the store, created. */
  store: StorageAdapter;
  /** Whether the host's client still answers a query. */
  isOpen(): Promise<boolean>;
  /** Closes the host's client once the test is done with it. */
  release(): Promise<void>;
}

/** Reading and damaging a store's table layout behind its back, for the migration-repair rules. */
export interface StructureHooks {
  /** The columns of the store's index for `spec` (the core's `IndexSpec.name`), in order, or null when it has none. */
  indexColumns(store: StorageAdapter, name: string): Promise<readonly string[] | null>;
  /** Replaces the store's index for `name` with one on `columns`, in that order. */
  replaceIndex(store: StorageAdapter, name: string, columns: readonly string[]): Promise<void>;
  /** Drops a column of the events table. */
  dropColumn(store: StorageAdapter, column: string): Promise<void>;
}

/**
 * Ways into a store that only its own test file has. Each unlocks the suite tests of the contract
 * rules that cannot be checked through the contract alone; a store that cannot provide one names
 * the reason in {@link ConformanceOptions.hookGaps}.
 */
export interface ConformanceHooks {
  /**
   * Opens another store on the same tables as `store`, through its own connection or client, as a
   * second process would. Unlocks: concurrent `migrate()` from several stores, cross-process
   * `tryLock`, a session closed through two stores at once, writes of one seen by the other.
   */
  openSecondStore?(store: StorageAdapter): StorageAdapter | Promise<StorageAdapter>;
  /** Builds a store on a client the host owns. Unlocks: `close()` never closes the host's client. */
  hostClient?(): Promise<HostClientFixture>;
  /** Reads and damages indexes and columns. Unlocks: `migrate()` repairs indexes and re-adds columns. */
  structure?: StructureHooks;
  /**
   * Terminates every server connection `store` holds right now, resolving how many it ended.
   * Unlocks: every acknowledged event survives connections killed mid-ingest, stored once.
   */
  killConnections?(store: StorageAdapter): Promise<number>;
  /**
   * How a child process opens a store on the same tables as `store`: the absolute path of a module,
   * the name of its factory export and JSON options for it. Unlocks: a retention job killed
   * (SIGKILL) between archive and delete is resumed by another process with nothing lost or archived twice.
   */
  childStore?(store: StorageAdapter): ChildStoreSpec;
}

import { runSearchConformance } from './search-suite.js';
import type { ChildStoreSpec } from './suites/integrity.js';

/** Options of {@link runStoreConformance}. */
export interface ConformanceOptions {
  /** Shown in test names, e.g. `postgres`. */
  name: string;
  /** Returns a store on fresh, empty, isolated tables each time it is called. */
  createStore: () => StorageAdapter | Promise<StorageAdapter>;
  /** Hooks that unlock the rules the contract alone cannot test (see {@link ConformanceHooks}). */
  hooks?: ConformanceHooks;
  /** Hooks the store cannot provide: hook name → reason. A missing hook without a reason fails the suite. */
  hookGaps?: Readonly<Partial<Record<keyof ConformanceHooks, string>>>;
  /**
   * Known gaps: test title → reason. Such tests still run and are expected to fail, so a gap that
   * gets fixed is noticed.
   */
  gaps?: Readonly<Record<string, string>>;
  /** Tamper-evidence hooks (`suites/integrity.ts`), or the reason the store keeps no hash chains. */
  integrity?: IntegritySuiteOptions;
}

/** Every hook the suite knows, so a store's file is told about the ones it neither gives nor explains. */
const HOOKS: readonly (keyof ConformanceHooks)[] = ['openSecondStore', 'hostClient', 'structure', 'killConnections', 'childStore'];

/**
 * Runs the storage-contract conformance suite against one store: every rule through the core API,
 * as users reach a store, plus the contract's MUST rules on the store itself and, through the
 * hooks, the rules that need a second process, a host's client, a damaged schema or killed
 * connections. Call it at the top level of a vitest test file.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { runStoreConformance } from '@eventlog/adapters/testing';
 * runStoreConformance({
 *   name: 'sqlite (memory)',
 *   createStore: () => createSqliteStore(),
 *   hookGaps: { openSecondStore: 'a :memory: database has one connection' },
 * });
 * ```
 */
export function runStoreConformance(options: ConformanceOptions): void {
  const open: { close(): Promise<void> }[] = [];
  const test = (title: string, fn: () => Promise<void>, timeoutMs?: number) => {
    const gap = options.gaps?.[title];
    if (gap) it.fails(`${title} (known gap: ${gap})`, fn, timeoutMs);
    else it(title, fn, timeoutMs);
  };

  async function setup(logOptions: LogOptions = {}): Promise<Fixture> {
    const store = await options.createStore();
    const clock = { now: NOW };
    const log = createEventLog({ store, presets: [conformancePreset], clock: () => clock.now, ...logOptions });
    open.push(log);
    await log.ready();
    return { log, store, clock };
  }

  afterEach(async () => {
    await Promise.all(open.splice(0).map((closer) => closer.close().catch(() => undefined)));
  });

  const usage = (i: number, overrides: Partial<Usage> = {}): Usage => ({
    type: 'llm.consumption',
    time: NOW - i * MINUTE,
    tenantId: `tenant-${i % 3}`,
    actor: { id: `user-${i % 5}`, type: 'user', name: `User ${i % 5}` },
    message: `call ${i} to model-${i % 4}`,
    ip: `203.0.113.${i % 250}`,
    dimensions: { model_name: `model-${i % 4}`, token_name: `token-${i % 2}`, channel: i % 3 },
    metrics: { quota: 10 * i, prompt_tokens: i, completion_tokens: 2 * i, amount: i / 4 },
    ...overrides,
  });

  const fill: SuiteContext['fill'] = async (log, n) => {
    const events = Array.from({ length: n }, (_, i) => usage(i));
    await log.recordMany(events);
    return events;
  };

  const freshStore = async () => {
    const store = await options.createStore();
    open.push(store);
    return store;
  };

  const ctx: SuiteContext = { test, setup, freshStore, usage, fill, track: (closer) => open.push(closer) };

  describe(`${options.name} store conformance`, () => {
    runSearchConformance(options);
    it('provides every hook or names why it cannot', () => {
      const unexplained = HOOKS.filter((hook) => !options.hooks?.[hook] && !options.hookGaps?.[hook]);
      const stale = HOOKS.filter((hook) => options.hooks?.[hook] && options.hookGaps?.[hook]);
      expect(unexplained, 'hooks neither provided nor named in hookGaps with a reason').toEqual([]);
      expect(stale, 'hooks provided and also named as gaps').toEqual([]);
    });
    writesSuite(ctx);
    readsSuite(ctx);
    statsSuite(ctx);
    retentionSuite(ctx);
    jobsSuite(ctx, options.hooks ?? {});
    contractSuite(ctx);
    hooksSuite(ctx, options.hooks ?? {});
    abortSuite(ctx);
    integritySuite(ctx, options.integrity);
    rollupsSuite(ctx, options.hooks ?? {});
  });
}
