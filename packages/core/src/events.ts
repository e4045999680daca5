import type { StoredEvent } from './schema/event.js';
import type { RollupProgress } from './storage/contract.js';

/** Payload of the `flushed` event. */
export interface FlushedInfo {
  /** Rows written by one store insert. */
  rows: number;
  durationMs: number;
}

/** Payload of the `pruned` event. */
export interface PrunedInfo {
  deleted: number;
  /** Events older than this epoch ms were removed. */
  before: number;
}

/** Events an {@link EventLog} emits (eventemitter3; lowercase names). */
export interface EventLogEvents {
  /** Events were stored (emitted only while someone listens, so idle logs skip the conversion). */
  recorded: [events: StoredEvent[]];
  /** One store insert completed. */
  flushed: [info: FlushedInfo];
  /** A prune finished. */
  pruned: [info: PrunedInfo];
  /** A chunk of the rollup backfill that migration runs on existing events finished. */
  rollups: [progress: RollupProgress];
  /** Background work (maintenance, a subscriber) failed; foreground calls reject instead. */
  error: [error: unknown];
}
