import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildCli, cleanEnv, combinedLines, runCli, tempDir } from './test-support.js';

// Each test starts real processes; on a shared 2-core machine a start can take seconds.
vi.setConfig({ testTimeout: 90_000 });

let bin: string;
let dir: string;
let file: string;
beforeAll(async () => {
  bin = await buildCli();
  dir = tempDir();
  file = join(dir, 'access.log');
  writeFileSync(file, `${combinedLines(20_000, Date.UTC(2026, 4, 1)).join('\n')}\n`);
}, 120_000);

// Anything but a line break (and tab) is a control character a log file should not receive.
// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for them is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

describe('progress', () => {
  it('draws a bar with total, rate and ETA in a terminal, and finishes it at 100%', () => {
    const db = join(dir, 'tty.db');
    const command = [process.execPath, bin, 'import', file, '--db', db, '--batch', '1000'].map((a) => `'${a}'`).join(' ');
    // `script` gives the command a pseudo-terminal, as an operator's shell would.
    const result = spawnSync('script', ['-qec', command, '/dev/null'], {
      env: cleanEnv({ CI: undefined, TERM: 'xterm-256color', EVENTLOG_STATE_DIR: join(dir, 'state-tty'), COLUMNS: '160' }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(0);
    const screen = result.stdout;
    expect(screen).toContain('\u001b[?25l'); // cursor hidden while drawing
    expect(screen).toMatch(/import .*access\.log █+/);
    expect(screen).toMatch(/100% \| [\d.]+ MB \/ [\d.]+ MB \| 20,000 events \| [\d.]+ (KB|MB)\/s/);
    expect(screen).toContain('\u001b[?25h'); // and shown again at the end
    expect(screen).toContain('20,000 stored, 0 rejected');
  });

  it('writes plain periodic lines without control characters to a pipe, and nothing with --quiet', async () => {
    const env = { CI: undefined, EVENTLOG_STATE_DIR: join(dir, 'state-pipe'), EVENTLOG_PROGRESS_INTERVAL: '0.001' };
    const piped = await runCli(bin, ['import', file, '--db', join(dir, 'pipe.db'), '--batch', '1000'], { env });
    expect(piped.code).toBe(0);
    expect(piped.stderr).toMatch(/^import .*access\.log: [\d.]+ (KB|MB) \/ [\d.]+ MB \(\d+%\) \| [\d,]+ events \| /m);
    expect(piped.stderr).not.toMatch(CONTROL);
    expect(piped.stdout).not.toMatch(CONTROL);
    expect(piped.stdout).toContain('20,000 stored, 0 rejected');
    const quiet = await runCli(bin, ['import', file, '--db', join(dir, 'quiet.db'), '--quiet'], { env });
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
    const exported = await runCli(bin, ['export', '--db', join(dir, 'pipe.db'), '--format', 'jsonl'], { env });
    expect(exported.code).toBe(0);
    expect(exported.stdout.split('\n').filter(Boolean)).toHaveLength(20_000);
    expect(exported.stdout).not.toMatch(CONTROL);
    expect(exported.stderr).toBe('');
  });
});
