import { readdirSync, readFileSync } from 'node:fs';

/**
 * Environment variable every process an e2e test starts carries (with the id of the test run),
 * inherited by everything that process starts in turn: the vitest global setup finds processes a
 * run left behind by it.
 */
export const EXAMPLE_RUN_ENV = 'EVENTLOG_EXAMPLE_RUN';

/** A process found by {@link processesTagged}. */
export interface TaggedProcess {
  pid: number;
  /** Its command line, for the failure message. */
  command: string;
}

/**
 * Every live process whose environment holds `EVENTLOG_EXAMPLE_RUN=<tag>` (or, with `prefix`, a
 * value starting with `tag`). Reads /proc, so it finds processes that left their process group or
 * were re-parented; empty on other platforms.
 */
export function processesTagged(tag: string, prefix = false): TaggedProcess[] {
  if (process.platform !== 'linux') return [];
  const needle = `${EXAMPLE_RUN_ENV}=${tag}`;
  const matches = (entry: string) => (prefix ? entry.startsWith(needle) : entry === needle);
  const found: TaggedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      // A zombie has exited already: only its parent's bookkeeping is left.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!environ.some(matches)) continue;
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid, command });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
