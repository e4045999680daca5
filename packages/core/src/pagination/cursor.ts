import { InvalidCursorError } from '../errors.js';
import type { Condition, SortDirection } from '../storage/contract.js';

/** The decoded content of a keyset cursor. @internal */
export interface CursorPosition {
  column: 'time' | 'id';
  direction: SortDirection;
  value: number;
  id: number;
  /** Fingerprint of the filter the cursor was issued for. */
  filter: string;
}

const VERSION = 1;

/** Encodes a keyset position as an opaque URL-safe string. @internal */
export function encodeCursor(position: CursorPosition): string {
  const payload = [VERSION, position.column, position.direction === 'asc' ? 1 : 0, position.value, position.id, position.filter];
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
}

/** Decodes a cursor, rejecting anything this version did not issue. @internal */
export function decodeCursor(cursor: string): CursorPosition {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 512 || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw new InvalidCursorError('The cursor is malformed; pass back the nextCursor value unchanged.');
  }
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new InvalidCursorError('The cursor is malformed; pass back the nextCursor value unchanged.', { cause });
  }
  if (
    !Array.isArray(payload) ||
    payload.length !== 6 ||
    payload[0] !== VERSION ||
    (payload[1] !== 'time' && payload[1] !== 'id') ||
    (payload[2] !== 0 && payload[2] !== 1) ||
    !Number.isSafeInteger(payload[3]) ||
    !Number.isSafeInteger(payload[4]) ||
    typeof payload[5] !== 'string'
  ) {
    throw new InvalidCursorError('The cursor is malformed or was issued by another version.');
  }
  return {
    column: payload[1],
    direction: payload[2] === 1 ? 'asc' : 'desc',
    value: payload[3],
    id: payload[4],
    filter: payload[5],
  };
}

/** A short stable fingerprint of a condition list, so that a cursor cannot be replayed on another filter. @internal */
export function fingerprint(conditions: readonly Condition[]): string {
  const text = JSON.stringify(conditions);
  // FNV-1a, 32 bit: collisions only weaken a usability check, never scoping.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}
