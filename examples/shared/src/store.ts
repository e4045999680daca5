import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { StorageAdapter } from '@eventlog/core';

/** Where an example keeps its events, as `describeStore` prints it. */
export interface OpenedStore {
  store: StorageAdapter;
  /** `sqlite file …`, `postgres …` (password hidden). */
  description: string;
  /** The SQLite file, when the store is one. */
  sqliteFile: string | null;
}

/**
 * Opens the store `EVENTLOG_DB` names: a `postgres://` or `postgresql://` URL, a `mysql://` or
 * `mariadb://` URL, or an SQLite file path (relative to the working directory; `:memory:` works
 * too). Without it, the example's own SQLite file. Drivers are loaded only when used.
 */
export async function openStore(url: string | undefined, defaultFile: string): Promise<OpenedStore> {
  const target = url?.trim() || defaultFile;
  if (/^postgres(ql)?:\/\//i.test(target)) {
    const { createPostgresStore } = await import('@eventlog/adapters/postgres');
    return { store: createPostgresStore({ connectionString: target }), description: `postgres ${redact(target)}`, sqliteFile: null };
  }
  if (/^(mysql|mariadb):\/\//i.test(target)) {
    const { createMysqlStore } = await import('@eventlog/adapters/mysql');
    const connection = target.replace(/^mariadb:/i, 'mysql:');
    return { store: createMysqlStore({ connectionString: connection }), description: `mysql ${redact(target)}`, sqliteFile: null };
  }
  const { createSqliteStore } = await import('@eventlog/adapters/sqlite');
  const filename = target.replace(/^sqlite:(\/\/)?/i, '');
  if (filename === ':memory:') return { store: createSqliteStore({ filename }), description: 'sqlite in memory', sqliteFile: null };
  const file = resolve(filename);
  mkdirSync(dirname(file), { recursive: true });
  return { store: createSqliteStore({ filename: file }), description: `sqlite file ${file}`, sqliteFile: file };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
