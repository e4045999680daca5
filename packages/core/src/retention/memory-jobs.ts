import type { JobQuery, JobRow, JobStore } from '../storage/contract.js';

/**
 * A job table in this process's memory: what the core uses for a store without one
 * (`EventStore.jobs` absent), and the memory store's own. Jobs are observable and cancellable here
 * but neither survive a restart nor reach other processes.
 *
 * @example
 * ```ts
 * import { createMemoryJobStore } from '@eventlog/core';
 * const jobs = createMemoryJobStore();
 * console.log(await jobs.list({ limit: 10 })); // []
 * ```
 */
export function createMemoryJobStore(): JobStore {
  const rows = new Map<string, JobRow>();
  return {
    async create(row) {
      if (rows.has(row.id)) throw new Error(`job ${row.id} exists`);
      rows.set(row.id, { ...row });
    },
    async update(row) {
      const current = rows.get(row.id);
      if (current) rows.set(row.id, { ...current, status: row.status, updatedAt: row.updatedAt, state: row.state });
    },
    async requestCancel(id) {
      const current = rows.get(id);
      if (!current || (current.status !== 'pending' && current.status !== 'running')) return false;
      rows.set(id, { ...current, cancelRequested: true });
      return true;
    },
    async get(id) {
      const row = rows.get(id);
      return row ? { ...row } : null;
    },
    async list(query: JobQuery) {
      const all = [...rows.values()]
        .filter((r) => (query.name === undefined || r.name === query.name) && (!query.status || query.status.includes(r.status)))
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
      const offset = query.offset ?? 0;
      return all.slice(offset, offset + query.limit).map((r) => ({ ...r }));
    },
  };
}
