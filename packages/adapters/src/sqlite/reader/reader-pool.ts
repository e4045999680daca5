import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { READER_WORKER_SOURCE, type ReaderRequest, type ReaderResponse, type ReaderWorkerData } from './worker-source.js';

/** Options of {@link createReaderPool}. @internal */
export interface ReaderPoolOptions {
  /** The absolute path of a database file in WAL mode. */
  filename: string;
  /** Workers at most, each with its own connection, started on demand. */
  readers: number;
  busyTimeoutMs: number;
  /** Distinct statements each worker keeps prepared. */
  maxStatements: number;
}

/** One page as a worker returns it: `values` holds the rows one after another, `columns.length` values each. @internal */
export interface ReaderPage {
  columns: string[];
  values: unknown[];
  /** How long the statement ran on the worker (ms). */
  ms: number;
}

/** Reads run on worker threads. @internal */
export interface ReaderPool {
  /** Runs one read statement; when `signal` aborts, rejects with its reason at once. */
  read(sql: string, parameters: readonly unknown[], signal?: AbortSignal): Promise<ReaderPage>;
  /** The writer refreshed the planner statistics: each worker loads them (and plans again) before its next read. */
  statisticsChanged(): void;
  /** Starts one worker if none runs, so that the first read does not wait for (and compete with) its start. */
  warm(): void;
  /** Stops every worker; reads still waiting or running reject. */
  close(): Promise<void>;
}

interface Job {
  /** The read; the statistics count is added when it is posted. */
  request: Omit<ReaderRequest, 'statistics'>;
  resolve(page: ReaderPage): void;
  reject(error: unknown): void;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  job?: Job;
  /** Set once the pool gave the worker up (aborted read, close): its messages and exit no longer matter. */
  retired?: boolean;
  failure?: unknown;
}

let driverPath: string | undefined;

/** The resolved path of the host's better-sqlite3, which the workers load. @internal */
export function sqliteDriverPath(): string {
  driverPath ??= createRequire(import.meta.url).resolve('better-sqlite3');
  return driverPath;
}

/**
 * A queue of reads served by up to `readers` worker threads. The queue stays here and each worker
 * gets one read at a time, so a read that is aborted while it waits never reaches a worker, and one
 * aborted while it runs costs only its own worker: that worker is terminated and the reads behind
 * it go to a fresh one. better-sqlite3 has no way to interrupt a statement from another thread, so
 * a terminated worker still finishes the SQLite step it is in before its thread ends; it is
 * unreferenced, so it neither keeps the process alive nor delays anything the pool does next.
 * Workers are referenced only while they run a read, so an idle pool never keeps a process alive,
 * and a pending read always does.
 * @internal
 */
export function createReaderPool(options: ReaderPoolOptions): ReaderPool {
  const queue: Job[] = [];
  const slots: Slot[] = [];
  let closed = false;
  let statistics = 0;
  const workerData: ReaderWorkerData = {
    driver: sqliteDriverPath(),
    filename: options.filename,
    busyTimeoutMs: options.busyTimeoutMs,
    maxStatements: options.maxStatements,
  };

  const retire = (slot: Slot) => {
    slot.retired = true;
    slot.job = undefined;
    const index = slots.indexOf(slot);
    if (index !== -1) slots.splice(index, 1);
    slot.worker.unref();
    return slot.worker.terminate().catch(() => undefined);
  };

  const spawn = (): Slot => {
    const worker = new Worker(READER_WORKER_SOURCE, { eval: true, workerData });
    const slot: Slot = { worker };
    worker.unref();
    worker.on('message', (response: ReaderResponse) => {
      const job = slot.job;
      if (slot.retired || !job) return;
      slot.job = undefined;
      job.slot = undefined;
      worker.unref();
      pump();
      if (response.error) job.reject(toError(response.error));
      else job.resolve(response);
    });
    // A worker that cannot start (say, the file was removed) fails the read it was given.
    worker.on('error', (error) => {
      slot.failure = error;
    });
    worker.on('exit', () => {
      if (slot.retired) return;
      const job = slot.job;
      retire(slot);
      job?.reject(slot.failure ?? new Error('The SQLite reader worker stopped unexpectedly.'));
      pump();
    });
    slots.push(slot);
    return slot;
  };

  const pump = () => {
    while (queue.length > 0 && !closed) {
      let slot = slots.find((s) => !s.job);
      if (!slot) {
        if (slots.length >= options.readers) return;
        slot = spawn();
      }
      const job = queue.shift() as Job;
      slot.job = job;
      job.slot = slot;
      slot.worker.ref();
      slot.worker.postMessage({ ...job.request, statistics } satisfies ReaderRequest);
    }
  };

  return {
    read(sql, parameters, signal) {
      if (closed) return Promise.reject(new Error('The SQLite store is closed.'));
      signal?.throwIfAborted();
      return new Promise<ReaderPage>((resolve, reject) => {
        let onAbort: (() => void) | undefined;
        const done = () => {
          if (onAbort) signal?.removeEventListener('abort', onAbort);
        };
        const job: Job = {
          request: { sql, parameters },
          resolve: (page) => {
            done();
            resolve(page);
          },
          reject: (error) => {
            done();
            reject(error);
          },
        };
        if (signal) {
          onAbort = () => {
            if (job.slot) {
              // Stop the statement's worker; the reads queued behind it go to a fresh one.
              void retire(job.slot);
            } else {
              const index = queue.indexOf(job);
              if (index !== -1) queue.splice(index, 1);
            }
            job.reject(signal.reason);
            pump();
          };
          signal.addEventListener('abort', onAbort, { once: true });
        }
        queue.push(job);
        pump();
      });
    },

    statisticsChanged() {
      statistics++;
    },

    warm() {
      if (!closed && slots.length === 0) spawn();
    },

    async close() {
      closed = true;
      const error = new Error('The SQLite store was closed while the read ran.');
      for (const job of queue.splice(0)) job.reject(error);
      const running = slots.slice();
      await Promise.all(
        running.map((slot) => {
          const job = slot.job;
          const stopped = retire(slot);
          job?.reject(error);
          return stopped;
        }),
      );
    },
  };
}

/** The driver's error class again, with the SQLite code, so transient errors are still recognised. */
function toError(error: { name: string; message: string; code?: string }): Error {
  if (error.code) return new Database.SqliteError(error.message, error.code);
  const out = error.name === 'TypeError' ? new TypeError(error.message) : new Error(error.message);
  if (error.name !== out.name) out.name = error.name;
  return out;
}
