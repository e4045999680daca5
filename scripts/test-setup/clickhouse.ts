/**
 * Vitest global setup: makes the README's test command work with ClickHouse installed but not
 * running. When the loopback servers the ClickHouse tests use do not answer and a
 * `clickhouse-server` binary is installed, it starts them with `scripts/clickhouse.sh` and stops,
 * after the run, exactly the servers it started. Without the binary the ClickHouse tests are
 * skipped with one line saying how to install it — except under `CI=true`, where a missing
 * ClickHouse fails the run.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../clickhouse.sh', import.meta.url));
/** Set for the test workers when the ClickHouse tests are skipped, so they say nothing more. */
export const SKIPPED_ENV = 'EVENTLOG_TEST_CLICKHOUSE_SKIPPED';
const SERVERS = 2;

/** An executable called `name` on PATH, or null. */
function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return null;
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/?query=SELECT%201`, { signal: AbortSignal.timeout(2000) });
    return response.ok && (await response.text()).startsWith('1');
  } catch {
    return false;
  }
}

function run(args: string[], env: NodeJS.ProcessEnv): string {
  return execFileSync('bash', [script, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Starts the loopback ClickHouse servers when needed; the returned function stops what it started. */
export default async function setup(): Promise<(() => void) | undefined> {
  // Tests pointed at servers of the user's own choosing are the user's to run.
  if (process.env.EVENTLOG_TEST_CLICKHOUSE_URL || process.env.EVENTLOG_TEST_CLICKHOUSE_SHARD_URLS) return undefined;
  const base = Number(process.env.EVENTLOG_CLICKHOUSE_HTTP_PORT || 18123);
  const urls = Array.from({ length: SERVERS }, (_, i) => `http://127.0.0.1:${base + i}`);
  if (base !== 18123) {
    // The script was told to use other ports: point the tests at them.
    process.env.EVENTLOG_TEST_CLICKHOUSE_URL = urls[0];
    process.env.EVENTLOG_TEST_CLICKHOUSE_SHARD_URLS = urls.join(',');
  }
  const down: number[] = [];
  for (const [i, url] of urls.entries()) if (!(await answers(url))) down.push(i);
  if (down.length === 0) return undefined;

  const bin = process.env.EVENTLOG_CLICKHOUSE_BIN || onPath('clickhouse-server') || onPath('clickhouse');
  if (!bin) {
    const line =
      'ClickHouse tests skipped: clickhouse-server is not installed (apt-get install -y clickhouse-server clickhouse-client; the tests then start it themselves)';
    if (process.env.CI) throw new Error(`${line.replace('skipped', 'cannot run')}; CI requires ClickHouse.`);
    console.warn(`[eventlog] ${line}`);
    process.env[SKIPPED_ENV] = line;
    return undefined;
  }

  const env = { ...process.env, EVENTLOG_CLICKHOUSE_BIN: bin };
  const started = Date.now();
  try {
    run(['start', String(SERVERS)], env);
  } catch (error) {
    const output = (error as { stderr?: string; stdout?: string }).stderr || (error as Error).message;
    // Whatever came up before the failure is ours to stop.
    try {
      run(['stop', ...down.map(String)], env);
    } catch {
      // reported below
    }
    throw new Error(`could not start the ClickHouse servers for the tests with ${script}:\n${output}`);
  }
  console.log(`[eventlog] started ClickHouse (${down.map((i) => urls[i]).join(', ')}) for the tests in ${Date.now() - started} ms`);
  return () => {
    run(['stop', ...down.map(String)], env);
  };
}
