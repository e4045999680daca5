import { describe, expect, it } from 'vitest';
import { isEventLogError } from '../errors.js';
import { decodeCursor, encodeCursor, fingerprint } from './cursor.js';

describe('cursors', () => {
  const position = { column: 'time' as const, direction: 'desc' as const, value: 1_795_839_996_958, id: 42, filter: 'abc' };

  it('round-trips a position through an opaque URL-safe string', () => {
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    '',
    'has spaces',
    '%%%',
    'x'.repeat(600),
    Buffer.from('not json').toString('base64url'),
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('[2,"time",0,1,1,"f"]').toString('base64url'),
    Buffer.from('[1,"quota",0,1,1,"f"]').toString('base64url'),
    Buffer.from('[1,"time",0,1.5,1,"f"]').toString('base64url'),
    Buffer.from('[1,"time",0,"1) or 1=1",1,"f"]').toString('base64url'),
  ])('rejects %j with INVALID_CURSOR', (cursor) => {
    let error: unknown;
    try {
      decodeCursor(cursor);
    } catch (e) {
      error = e;
    }
    expect(isEventLogError(error, 'INVALID_CURSOR')).toBe(true);
  });

  it('fingerprints differ for different filters and match for equal ones', () => {
    const a = fingerprint([{ op: 'in', column: 'tenant_id', values: ['a'] }]);
    expect(fingerprint([{ op: 'in', column: 'tenant_id', values: ['a'] }])).toBe(a);
    expect(fingerprint([{ op: 'in', column: 'tenant_id', values: ['b'] }])).not.toBe(a);
  });
});
