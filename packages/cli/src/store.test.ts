import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { parseStoreTarget } from './store.js';

describe('parseStoreTarget', () => {
  it('turns clickhouse:// and clickhouses:// into the HTTP(S) URL the client takes, with the database from the path', () => {
    expect(parseStoreTarget('clickhouse://127.0.0.1:18123/logs')).toEqual({
      engine: 'clickhouse',
      location: 'http://127.0.0.1:18123',
      namespace: 'logs',
    });
    expect(parseStoreTarget('clickhouse://app:s3cret@db.internal/logs?prefix=web_')).toEqual({
      engine: 'clickhouse',
      location: 'http://app:s3cret@db.internal:8123',
      namespace: 'logs',
      tablePrefix: 'web_',
    });
    expect(parseStoreTarget('clickhouses://db.example.com').location).toBe('https://db.example.com:8443');
    expect(parseStoreTarget('http://127.0.0.1:18123/?database=logs')).toEqual({
      engine: 'clickhouse',
      location: 'http://127.0.0.1:18123',
      namespace: 'logs',
    });
  });

  it('keeps file paths for SQLite and refuses unknown schemes with a usage error', () => {
    expect(parseStoreTarget('data/events.db', '/srv')).toEqual({ engine: 'sqlite', location: '/srv/data/events.db' });
    expect(parseStoreTarget('postgres://app@db/app?schema=logs')).toEqual({
      engine: 'postgres',
      location: 'postgres://app@db/app',
      namespace: 'logs',
    });
    expect(() => parseStoreTarget('redis://localhost')).toThrow(UsageError);
  });
});
