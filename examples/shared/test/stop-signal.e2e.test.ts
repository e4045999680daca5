/**
 * Defect 9 of issue 16: a supervisor (`docker stop`, pm2, systemd, a test) signals only the top
 * process of what a user started. These tests start the examples exactly as the READMEs say —
 * `pnpm start` in an example's folder, `npx -y pnpm@10.34.8 demo` at the root — send SIGTERM to
 * that top process alone, and check what a user would: the buffered events are in the database,
 * the process ended cleanly, nothing it started is still running, and the port is closed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BufferedStop, scratchDirectory, stopWithBufferedEvents } from '@eventlog/example-shared/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const scratch = scratchDirectory('stop-signal');
let pnpm = '';

beforeAll(() => {
  // The pnpm the READMEs pin, as its own executable: `pnpm start` is then the top process itself.
  pnpm = execFileSync('npx', ['-y', '-p', 'pnpm@10.34.8', 'sh', '-c', 'command -v pnpm'], { encoding: 'utf8' }).trim();
}, 120_000);
afterAll(() => scratch.remove());

/** What holds whichever way the server was started. */
async function expectCleanStop(result: BufferedStop, url: string | null): Promise<void> {
  expect(result.output).toMatch(/SIGTERM: stopping/);
  // Live traffic sat in the buffer (a ten-minute linger) when the signal came, and all of it is stored.
  expect(result.buffered, result.output).toBeGreaterThan(0);
  expect(result.after, result.output).toBe(result.before + result.written);
  if (url) await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
}

describe('SIGTERM to the top process reaches the example server', () => {
  it('`pnpm start` in an example folder: flushes, exits 0 and leaves nothing running', async () => {
    let url: string | null = null;
    const result = await stopWithBufferedEvents(
      join(root, 'examples/new-api'),
      join(scratch.path, 'new-api.db'),
      async (example) => {
        url = example.url;
      },
      [pnpm, 'start'],
    );
    // pnpm relays the signal to the server (the script `exec`s node) and exits with its code.
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/store closed/);
    await expectCleanStop(result, url);
  }, 180_000);

  it('`npx -y pnpm@10.34.8 demo` at the root: the demo flushes and exits, nothing is left', async () => {
    let url: string | null = null;
    const result = await stopWithBufferedEvents(
      root,
      join(scratch.path, 'demo.db'),
      async (example) => {
        url = example.url;
      },
      ['npx', '-y', 'pnpm@10.34.8', 'demo'],
    );
    // npx's own shell dies from the signal without passing it on, so npx ends at once (its code
    // is npm's, not the server's); the server sees its launcher gone and stops as on SIGTERM.
    expect(result.output).toMatch(/the command that started this server has exited/);
    expect(result.output).toMatch(/store closed/);
    await expectCleanStop(result, url);
  }, 180_000);
});
