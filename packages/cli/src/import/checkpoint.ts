import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** What an import of one file has committed, saved after every stored batch. */
export interface Checkpoint {
  version: 1;
  /** Absolute path of the input. */
  file: string;
  /** The store it went into (password removed). */
  db: string;
  /** sha256 of the file's first 4 KB when the import started: a rotated or replaced file starts over. */
  head: string;
  /** Bytes of the (decompressed) input whose lines are stored or rejected. */
  offset: number;
  /** Lines consumed up to `offset`. */
  line: number;
  /** The format used, so a resumed run parses the same way. */
  format: string;
  /** The CSV header row, needed to resume a CSV input after it. */
  header?: string;
  /** Totals over every run of this import. */
  stored: number;
  rejected: number;
  /** Highest id the store returned for this import's events (absent when the store returns none). */
  lastId?: number;
  /**
   * The batch being stored when this was written: a run that died before the next checkpoint
   * checks whether it committed (its last event exists with an id above `lastId`) and, if so,
   * continues after it instead of storing it again.
   */
  pending?: { offset: number; line: number; count: number; probe: { type: string; time: number } };
  /** ISO time of the last update. */
  updated: string;
}

/** Where checkpoints live: `--state-dir`, then `EVENTLOG_STATE_DIR`, then `$XDG_STATE_HOME/eventlog/imports`. */
export function stateDirectory(flag: string | undefined): string {
  if (flag) return resolve(flag);
  if (process.env.EVENTLOG_STATE_DIR) return resolve(process.env.EVENTLOG_STATE_DIR);
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'eventlog', 'imports');
}

/** The checkpoint file of one (input, store) pair. */
export function checkpointPath(directory: string, file: string, db: string): string {
  const key = createHash('sha256').update(`${file}\0${db}`).digest('hex').slice(0, 24);
  return join(directory, `${key}.json`);
}

/** sha256 of a file head. */
export function headHash(head: Buffer): string {
  return createHash('sha256').update(head).digest('hex');
}

/** Reads a checkpoint; null when there is none or it cannot be read. */
export function readCheckpoint(path: string): Checkpoint | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
    return value?.version === 1 && Number.isSafeInteger(value.offset) ? value : null;
  } catch {
    return null;
  }
}

/** Writes a checkpoint atomically (write, then rename), so a crash never leaves half a file. */
export function writeCheckpoint(path: string, checkpoint: Checkpoint): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(checkpoint));
  renameSync(temporary, path);
}
