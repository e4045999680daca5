/**
 * What a reader worker receives at start (`workerData`).
 * @internal
 */
export interface ReaderWorkerData {
  /** The resolved path of better-sqlite3, so the worker loads the host's copy of the driver. */
  driver: string;
  /** The absolute path of the database file. */
  filename: string;
  busyTimeoutMs: number;
  /** Distinct statements the worker keeps prepared. */
  maxStatements: number;
}

/** A read sent to a worker. @internal */
export interface ReaderRequest {
  sql: string;
  parameters: readonly unknown[];
  /** The pool's count of statistics refreshes: when it changed, the worker opens a new connection, which loads them. */
  statistics: number;
}

/**
 * A worker's answer: the page flattened row after row (`values.length` is rows × `columns.length`)
 * and how long SQLite took (ms), or an error.
 * @internal
 */
export type ReaderResponse =
  | { columns: string[]; values: unknown[]; ms: number; error?: undefined }
  | { error: { name: string; message: string; code?: string } };

/**
 * The worker's program, run with `eval`: the published package is bundled into one ESM and one
 * CommonJS file, and a separate worker file would need its own entry and path handling in both.
 * Plain CommonJS, no TypeScript, so it runs as is.
 *
 * The worker opens its own connection to the file (WAL lets it read while the main connection
 * writes) with `query_only`, so a statement sent to it can never write. Every statement runs in
 * autocommit: SQLite starts its read snapshot when the statement starts and ends it when `all()`
 * returns, so a read sent after a write committed always sees that write. Rows travel as one flat
 * array per page: one structured clone of an array is cheaper than one per row.
 * @internal
 */
export const READER_WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const open = () => {
  const connection = new Database(workerData.filename, { fileMustExist: true });
  connection.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs));
  connection.pragma('query_only = ON');
  return connection;
};
let db = open();
const statements = new Map();
let statistics = 0;
const namesOf = (statement) => statement.columns().map((c) => c.name);
parentPort.on('message', (request) => {
  try {
    if (request.statistics !== statistics) {
      // SQLite reloads statistics only with a write lock (ANALYZE sqlite_schema) or a new
      // connection; a reader takes the new connection (well under a millisecond).
      statistics = request.statistics;
      statements.clear();
      db.close();
      db = open();
    }
    let entry = statements.get(request.sql);
    if (!entry) {
      const statement = db.prepare(request.sql);
      if (!statement.reader) throw new TypeError('A reader worker only runs statements that return rows.');
      statement.raw(true);
      entry = { statement, columns: namesOf(statement) };
      if (statements.size >= workerData.maxStatements) statements.delete(statements.keys().next().value);
      statements.set(request.sql, entry);
    }
    const started = performance.now();
    const rows = entry.statement.all(...request.parameters);
    const ms = performance.now() - started;
    // A migration that added columns changes what "select *" returns: read the names again.
    if (rows.length > 0 && rows[0].length !== entry.columns.length) entry.columns = namesOf(entry.statement);
    const width = entry.columns.length;
    const values = new Array(rows.length * width);
    let k = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      for (let i = 0; i < width; i++) values[k++] = row[i];
    }
    parentPort.postMessage({ columns: entry.columns, values, ms });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    parentPort.postMessage({ error: { name: e.name, message: e.message, code: typeof e.code === 'string' ? e.code : undefined } });
  }
});
`;

/** What a checkpoint worker receives at start (`workerData`). @internal */
export interface CheckpointWorkerData {
  /** The resolved path of better-sqlite3. */
  driver: string;
  /** The absolute path of the database file. */
  filename: string;
  busyTimeoutMs: number;
}

/**
 * The checkpoint worker's program (see {@link READER_WORKER_SOURCE} for why it is a string). Each
 * message asks for one PASSIVE checkpoint; the answer is the result row, or an error.
 * @internal
 */
export const CHECKPOINT_WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.filename, { fileMustExist: true });
db.pragma('busy_timeout = ' + Number(workerData.busyTimeoutMs));
parentPort.on('message', () => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ log: result.log, checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: { message: error instanceof Error ? error.message : String(error) } });
  }
});
`;
