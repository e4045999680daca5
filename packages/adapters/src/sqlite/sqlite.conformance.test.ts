import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runStoreConformance } from '../testing/index.js';
import { createSqliteStore } from './sqlite-store.js';

runStoreConformance({ name: 'sqlite (memory)', createStore: () => createSqliteStore() });

const dir = mkdtempSync(join(tmpdir(), 'eventlog-sqlite-'));
let n = 0;
runStoreConformance({ name: 'sqlite (file, WAL)', createStore: () => createSqliteStore({ filename: join(dir, `events-${n++}.db`) }) });
afterAll(() => rmSync(dir, { recursive: true, force: true }));
