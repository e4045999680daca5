import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { type CheckpointerOptions, createCheckpointer } from './checkpointer.js';
import { sqliteDriverPath } from './reader-pool.js';

const dir = mkdtempSync(join(tmpdir(), 'eventlog-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function walFile(name: string): Database.Database {
  const database = new Database(join(dir, name));
  database.pragma('journal_mode = WAL');
  database.pragma('wal_autocheckpoint = 0');
  database.exec('create table t (id integer primary key, body text)');
  return database;
}

/** Writes `n` rows of 500 characters into `t` in one transaction. */
function rowWriter(database: Database.Database, char: string): (n: number) => void {
  const insert = database.prepare('insert into t (body) values (?)');
  return (n) =>
    database.transaction(() => {
      for (let i = 0; i < n; i++) insert.run(char.repeat(500));
    })();
}

/** A checkpointer of `database` with the store's driver, a 1 s busy timeout and these settings. */
function checkpointerOf(
  database: Database.Database,
  options: Pick<CheckpointerOptions, 'rowsPerCheckpoint' | 'maxDelayMs'> & Partial<CheckpointerOptions>,
) {
  return createCheckpointer({
    filename: database.name,
    driver: sqliteDriverPath,
    busyTimeoutMs: 1000,
    onFailure: () => undefined,
    ...options,
  });
}

describe('sqlite checkpoint worker', () => {
  it('copies the WAL into the database on its thread once enough rows were written', async () => {
    const database = walFile('copies.db');
    const failures: unknown[] = [];
    const checkpointer = checkpointerOf(database, {
      rowsPerCheckpoint: 100,
      maxDelayMs: 60_000,
      onFailure: (error) => failures.push(error),
    });
    const before = statSync(database.name).size;
    rowWriter(database, 'x')(100);
    checkpointer.wrote(100);
    const running = checkpointer.idle(60_000);
    expect(running).toBeInstanceOf(Promise);
    await running;
    expect(checkpointer.completed).toBe(1);
    expect(checkpointer.idle(60_000)).toBeUndefined();
    // The rows reached the database file itself (this connection never checkpoints: autocheckpoint 0).
    expect(statSync(database.name).size).toBeGreaterThan(before + 100 * 500);
    expect(failures).toEqual([]);
    await checkpointer.close();
    database.close();
  });

  it('checkpoints rows written during a checkpoint after the delay, even when too few to start one', async () => {
    // The last rows of an ingest written while a checkpoint ran stayed in the WAL until the next
    // write: reads kept looking them up there and the WAL never started over.
    const database = walFile('tail.db');
    const checkpointer = checkpointerOf(database, { rowsPerCheckpoint: 1000, maxDelayMs: 50 });
    const write = rowWriter(database, 'z');
    write(1000);
    checkpointer.wrote(1000);
    const running = checkpointer.idle(60_000);
    expect(running).toBeInstanceOf(Promise);
    write(10);
    checkpointer.wrote(10); // while the first checkpoint runs
    await running;
    expect(checkpointer.completed).toBe(1);
    const deadline = Date.now() + 5000;
    while (checkpointer.completed < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(checkpointer.completed).toBe(2);
    // Everything is in the database file: nothing is left for a checkpoint to copy.
    const [result] = database.pragma('wal_checkpoint(PASSIVE)') as { log: number; checkpointed: number }[];
    expect(result?.checkpointed).toBe(result?.log);
    await checkpointer.close();
    database.close();
  });

  it('drains the WAL, rows written during a checkpoint included, so that the next write starts it over', async () => {
    const database = walFile('drain.db');
    const checkpointer = checkpointerOf(database, { rowsPerCheckpoint: 1000, maxDelayMs: 60_000 });
    const write = rowWriter(database, 'd');
    expect(checkpointer.drain(60_000)).toBeUndefined();
    write(1000);
    checkpointer.wrote(1000);
    expect(checkpointer.idle(60_000)).toBeInstanceOf(Promise);
    write(10);
    checkpointer.wrote(10); // while the first checkpoint runs: too few to start the next one at once
    await checkpointer.drain(60_000);
    expect(checkpointer.completed).toBe(2);
    expect(checkpointer.walFrames).toBeGreaterThan(0);
    expect(checkpointer.drain(60_000)).toBeUndefined();
    // Every frame was copied, so this write starts the WAL over from its first frame.
    write(1);
    const [result] = database.pragma('wal_checkpoint(PASSIVE)') as { log: number }[];
    expect(result?.log).toBeLessThan(10);
    await checkpointer.close();
    database.close();
  });

  it('lets a writer wait for a running checkpoint at most the bound it gives', async () => {
    // About 40 MB of WAL: copying it into the database and syncing takes far longer than 5 ms.
    const database = walFile('bounded.db');
    const checkpointer = checkpointerOf(database, { rowsPerCheckpoint: 1, maxDelayMs: 60_000 });
    const insert = database.prepare('insert into t (body) values (?)');
    database.transaction(() => {
      for (let i = 0; i < 40_000; i++) insert.run(`${i} ${'y'.repeat(1000)}`);
    })();
    checkpointer.wrote(40_000);
    const started = performance.now();
    await checkpointer.idle(5);
    const waited = performance.now() - started;
    expect(checkpointer.completed).toBe(0);
    expect(waited).toBeLessThan(1000);
    await checkpointer.idle(60_000);
    expect(checkpointer.completed).toBe(1);
    await checkpointer.close();
    database.close();
  });

  it('reports a worker that cannot start once, and never throws into the writer', async () => {
    const database = walFile('no-driver.db');
    const failures: unknown[] = [];
    const checkpointer = checkpointerOf(database, {
      driver: () => {
        throw new Error("Cannot find module 'better-sqlite3'");
      },
      rowsPerCheckpoint: 10,
      maxDelayMs: 60_000,
      onFailure: (error) => failures.push(error),
    });
    expect(() => checkpointer.wrote(10)).not.toThrow();
    expect(() => checkpointer.wrote(10)).not.toThrow();
    expect(checkpointer.idle(60_000)).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toContain('better-sqlite3');
    await checkpointer.close();
    database.close();
  });
});
