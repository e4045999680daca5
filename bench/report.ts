import { writeFileSync } from 'node:fs';

/**
 * How a figure is compared with raw. The ratio is always eventlog's cost over raw's cost, so that
 * 1.00 means "as fast / as small as raw" and > 1 means eventlog is slower or uses more:
 * - `time` and `memory`: value ÷ raw;
 * - `throughput` (higher is better): raw ÷ value.
 */
export type Kind = 'time' | 'throughput' | 'memory';

/** A target a figure must meet. */
export type Target = { maxRatio: number } | { maxValue: number };

/** One measured figure. */
export interface BenchResult {
  engine: string;
  workload: string;
  value: number;
  unit: string;
  raw: number;
  ratio: number;
  target?: Target;
  /** Extra facts shown under the table (rows, plan checks, iterations). */
  note?: string;
}

export const RATIO_CONVENTION =
  'ratio = eventlog cost / raw cost (time or memory: value/raw; throughput: raw/value). 1.00 = same as raw; >1 = eventlog slower or larger.';

/** Builds a result with its ratio computed from the kind. */
export function result(
  engine: string,
  workload: string,
  kind: Kind,
  value: number,
  unit: string,
  raw: number,
  extra: { target?: Target; note?: string } = {},
): BenchResult {
  const ratio = kind === 'throughput' ? raw / value : value / raw;
  return { engine, workload, value, unit, raw, ratio: Number.isFinite(ratio) ? ratio : Number.NaN, ...extra };
}

/** Whether a result meets its target (undefined when it has none). */
export function meets(r: BenchResult): boolean | undefined {
  if (!r.target) return undefined;
  if ('maxRatio' in r.target) return r.ratio <= r.target.maxRatio;
  return r.value <= r.target.maxValue;
}

function describeTarget(r: BenchResult): string {
  if (!r.target) return '';
  const ok = meets(r) ? 'met' : 'MISSED';
  return 'maxRatio' in r.target ? `ratio ≤ ${r.target.maxRatio.toFixed(2)} ${ok}` : `< ${r.target.maxValue} ${r.unit} ${ok}`;
}

/** Formats a number with sensible precision for the table. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return Math.round(n).toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toFixed(3);
}

/** The results as an aligned text table (also valid Markdown). */
export function formatTable(results: readonly BenchResult[]): string {
  const header = ['engine', 'workload', 'value', 'unit', 'raw', 'ratio', 'target'];
  const rows = results.map((r) => [r.engine, r.workload, fmt(r.value), r.unit, fmt(r.raw), r.ratio.toFixed(2), describeTarget(r)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const numeric = new Set([2, 4, 5]);
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Writes `{ engine, workload, value, unit, raw, ratio }` objects as a JSON array. */
export function writeJson(file: string, results: readonly BenchResult[]): void {
  const plain = results.map(({ engine, workload, value, unit, raw, ratio }) => ({ engine, workload, value, unit, raw, ratio }));
  writeFileSync(file, `${JSON.stringify(plain, null, 2)}\n`);
}
