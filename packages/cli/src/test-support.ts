// Helpers of the CLI tests: build the binary once, run it as a real child process, make log files.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cliDir = join(root, 'packages/cli');

function sourcesHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(ts|tsx|css)$/.test(entry.name) && !entry.name.endsWith('.test.ts'))
        hash.update(relative(root, path)).update(readFileSync(path));
    }
  };
  for (const pkg of ['cli', 'core', 'adapters', 'http', 'viewer']) walk(join(root, 'packages', pkg, 'src'));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Bundles the CLI (with the workspace packages from source) once per source state, into
 * packages/cli/node_modules/.cache so drivers and commander resolve from the package's own deps.
 */
export async function buildCli(): Promise<string> {
  const dir = join(cliDir, 'node_modules/.cache/eventlog-cli-test', sourcesHash());
  const bin = join(dir, 'bin.js');
  if (existsSync(bin)) return bin;
  const temporary = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  // The viewer page (a no-op when dist/ui is newer than its sources): the bundle serves it from a
  // copy beside itself, so the tests need no `pnpm build` of the workspace first.
  execFileSync(process.execPath, [join(root, 'packages/viewer/scripts/build-ui.mjs')], { stdio: 'pipe' });
  const { build } = await import('tsup');
  await build({
    config: false,
    entry: { bin: join(cliDir, 'src/bin.ts') },
    outDir: temporary,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    dts: false,
    sourcemap: false,
    // Each `--db` engine's adapter and driver become a chunk loaded on first use, as in the published
    // package (without splitting, esbuild hoists every driver's import into the one file).
    splitting: true,
    silent: true,
    tsconfig: join(root, 'tsconfig.json'),
    noExternal: [/^@eventlog\//, 'zod', 'date-fns', '@date-fns/tz', 'eventemitter3', 'jose'],
    // The CLI's own dependencies resolve from packages/cli/node_modules, as in an installed package.
    external: ['commander', 'cli-progress', 'jiti', 'kysely', 'better-sqlite3', 'pg', 'pg-copy-streams', 'mysql2', '@clickhouse/client'],
  });
  // The viewer looks for its page in ./ui beside its module, here the bundle's own folder.
  cpSync(join(root, 'packages/viewer/dist/ui'), join(temporary, 'ui'), { recursive: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  try {
    renameSync(temporary, dir);
  } catch {
    // Another test file built the same sources first.
    rmSync(temporary, { recursive: true, force: true });
  }
  return bin;
}

/** The result of one run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link runCli} and {@link startCli}. */
export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Buffer;
  timeoutMs?: number;
}

/** An environment without CI markers or a configured store, plus `extra`. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.EVENTLOG_DB;
  delete env.EVENTLOG_STATE_DIR;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A started child with its output so far. */
export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout (or stderr) matches. */
  waitFor: (pattern: RegExp, stream?: 'stdout' | 'stderr', timeoutMs?: number) => Promise<string>;
  done: Promise<CliResult>;
}

/** Starts `eventlog ARGS` as a child process. */
export function startCli(bin: string, args: readonly string[], options: RunOptions = {}): RunningCli {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? root,
    env: cleanEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const l of listeners) l();
  });
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const waitFor = (pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const text = stream === 'stdout' ? stdout : stderr;
        if (pattern.test(text)) {
          listeners.delete(check);
          clearTimeout(timer);
          resolve(text);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(
            `timed out waiting for ${pattern} in ${stream}: ${JSON.stringify((stream === 'stdout' ? stdout : stderr).slice(-500))}`,
          ),
        );
      }, timeoutMs);
      listeners.add(check);
      check();
    });
  return { child, stdout: () => stdout, stderr: () => stderr, waitFor, done };
}

/** Runs `eventlog ARGS` to the end. */
export async function runCli(bin: string, args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const running = startCli(bin, args, options);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  try {
    return await running.done;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts `eventlog ARGS` (an import), sends it Ctrl+C (SIGINT) as soon as it has written its first
 * checkpoint into `stateDir`, and resolves with how it ended.
 */
export async function interruptAfterFirstCheckpoint(
  bin: string,
  args: readonly string[],
  cwd: string,
  stateDir: string,
): Promise<CliResult> {
  const running = startCli(bin, args, { cwd });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !(existsSync(stateDir) && readdirSync(stateDir).some((f) => f.endsWith('.json')))) {
    await new Promise((r) => setTimeout(r, 10));
  }
  running.child.kill('SIGINT');
  return running.done;
}

/** A fresh temporary directory. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'eventlog-cli-'));
}

/** File size in bytes. */
export function sizeOf(path: string): number {
  return statSync(path).size;
}

/** A small seeded generator (mulberry32): tests stay deterministic. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PATHS = ['/', '/index.html', '/app.js', '/style.css', '/api/items?page=2', '/login', '/img/logo.png', '/download/setup.exe'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0', 'curl/8.5.0', 'Go-http-client/1.1', 'Mozilla/5.0 (iPhone) Safari/604.1'];
const HOSTS = ['example.com', 'cdn.example.net', 'updates.vendor.io', 'api.service.dev', '198.51.100.7'];

/** Lines of an nginx/Apache combined log, one a second from `start`. */
export function combinedLines(count: number, start: number, seed = 1): string[] {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(start + i * 1000);
    const time = `${String(d.getUTCDate()).padStart(2, '0')}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')} +0000`;
    const status = pick([200, 200, 200, 304, 404, 403, 500]);
    const user = random() < 0.1 ? 'alice' : '-';
    lines.push(
      `10.0.${Math.floor(random() * 4)}.${1 + Math.floor(random() * 200)} - ${user} [${time}] "${pick(['GET', 'GET', 'POST', 'HEAD'])} ${pick(PATHS)} HTTP/1.1" ${status} ${Math.floor(random() * 50_000)} "${random() < 0.5 ? '-' : 'https://example.com/'}" "${pick(AGENTS)}"`,
    );
  }
  return lines;
}

/** Lines of a Squid native access.log, one a second from `start`. */
export function squidLines(count: number, start: number, seed = 2): string[] {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const time = ((start + i * 1000) / 1000).toFixed(3);
    const connect = random() < 0.4;
    const host = pick(HOSTS);
    const result = pick(['TCP_MISS/200', 'TCP_HIT/200', 'TCP_TUNNEL/200', 'TCP_DENIED/403', 'TCP_MISS/404']);
    const url = connect ? `${host}:443` : `http://${host}/${pick(['a.png', 'index.html', 'setup.exe', ''])}`;
    lines.push(
      `${time} ${Math.floor(random() * 900)} 192.168.1.${1 + Math.floor(random() * 50)} ${result} ${Math.floor(random() * 90_000)} ${connect ? 'CONNECT' : 'GET'} ${url} ${random() < 0.2 ? 'bob' : '-'} ${result.startsWith('TCP_DENIED') ? 'HIER_NONE/-' : `HIER_DIRECT/${host}`} ${connect ? '-' : 'text/html'}`,
    );
  }
  return lines;
}

/** The test PostgreSQL server. */
export const POSTGRES_URL = process.env.EVENTLOG_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A `--db` value on a fresh schema of the test server, and a function that drops it. */
export async function postgresDb(): Promise<{ db: string; drop: () => Promise<void> }> {
  const schema = `cli_${process.pid}_${randomBytes(4).toString('hex')}`;
  const pg = (await import('pg')).default;
  return {
    db: `${POSTGRES_URL}?schema=${schema}`,
    drop: async () => {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A `--db` value naming a fresh database on the test ClickHouse server (`url` as `requireServer`
 * gives it, http://host:port), in the `clickhouse://host:port/database` form, and a function that drops it.
 */
export function clickhouseDb(url: string): { db: string; database: string; drop: () => Promise<void> } {
  const database = `cli_${process.pid}_${randomBytes(4).toString('hex')}`;
  return {
    db: `${url.replace(/^http/, 'clickhouse').replace(/\/$/, '')}/${database}`,
    database,
    drop: async () => {
      const { createClient } = await import('@clickhouse/client');
      const client = createClient({ url });
      try {
        await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      } finally {
        await client.close();
      }
    },
  };
}
