import cliProgress from 'cli-progress';

/** How progress is shown: a redrawn bar (terminal), periodic plain lines (pipe, CI), or nothing. */
export type ProgressMode = 'bar' | 'lines' | 'none';

/** Progress of one long operation. */
export interface Progress {
  /** Moves to `value` (of `total` when known) and records a count of items for the text. */
  update(value: number, items?: number): void;
  /** Sets or changes the total. */
  setTotal(total: number | null): void;
  /** Draws the last state and releases the terminal line. */
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** What is done, e.g. `import`. */
  label: string;
  /** `bytes` shows sizes (KB, MB), `count` plain numbers. */
  unit: 'bytes' | 'count';
  /** Items counted beside the progress, e.g. `events`. */
  itemName?: string;
  total: number | null;
  mode: ProgressMode;
  /** Where it is drawn. @default process.stderr */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Seconds between plain lines. @default 5 (EVENTLOG_PROGRESS_INTERVAL) */
  intervalSeconds?: number;
}

/**
 * Chooses how to show progress: nothing with `--quiet`, a bar only on an interactive terminal
 * outside CI, plain periodic lines otherwise (logs of pipes and CI runs stay readable).
 */
export function progressMode(quiet: boolean | undefined, stream: { isTTY?: boolean } = process.stderr): ProgressMode {
  if (quiet) return 'none';
  const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
  return stream.isTTY && !ci && process.env.TERM !== 'dumb' ? 'bar' : 'lines';
}

/** `1.5 MB`, `320 KB`, `12 B`. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** `12,345` in a stable locale. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** `1m05s`, `42s`. */
function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Creates a progress display (see {@link progressMode}). The bar shows processed / total, the
 * rate and the ETA; plain lines show the same facts every few seconds without control characters.
 */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const fmt = options.unit === 'bytes' ? formatBytes : formatCount;
  const started = Date.now();
  let total = options.total;
  let value = 0;
  let items = 0;
  const itemText = () => (options.itemName ? ` | ${formatCount(items)} ${options.itemName}` : '');
  const rateText = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? value / seconds : 0;
    return `${fmt(rate)}/s`;
  };

  if (options.mode === 'none') {
    return { update() {}, setTotal() {}, stop() {} };
  }

  if (options.mode === 'lines') {
    const interval = (options.intervalSeconds ?? (Number(process.env.EVENTLOG_PROGRESS_INTERVAL) || 5)) * 1000;
    let last = Date.now();
    const line = () => {
      const of = total ? ` / ${fmt(total)} (${Math.min(100, Math.floor((value / total) * 100))}%)` : '';
      stream.write(`${options.label}: ${fmt(value)}${of}${itemText()} | ${rateText()}\n`);
    };
    return {
      update(v, n) {
        value = v;
        if (n !== undefined) items = n;
        const now = Date.now();
        if (now - last >= interval) {
          last = now;
          line();
        }
      },
      setTotal(t) {
        total = t;
      },
      stop() {},
    };
  }

  const bar = new cliProgress.SingleBar(
    {
      stream: stream as NodeJS.WritableStream,
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 8,
      etaBuffer: 40,
      barsize: 30,
      format: (opts, params, payload: { text?: string }) => {
        const size = opts.barsize ?? 30;
        const done = total ? Math.round(params.progress * size) : 0;
        const barText = total ? `${'█'.repeat(done)}${'░'.repeat(size - done)}` : '';
        const pct = total ? ` ${Math.floor(params.progress * 100)}%` : '';
        const eta = total && params.value < params.total ? ` | ETA ${formatSeconds(params.eta)}` : '';
        return `${options.label} ${barText}${pct} | ${fmt(params.value)}${total ? ` / ${fmt(params.total)}` : ''}${payload.text ?? ''} | ${rateText()}${eta}`;
      },
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total ?? 0, 0, { text: '' });
  return {
    update(v, n) {
      value = v;
      if (n !== undefined) items = n;
      if (!total && v > bar.getTotal()) bar.setTotal(v);
      bar.update(v, { text: itemText() });
    },
    setTotal(t) {
      total = t;
      bar.setTotal(t ?? value);
    },
    stop() {
      bar.update(value, { text: itemText() });
      bar.stop();
    },
  };
}
