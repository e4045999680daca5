import { CANONICAL_FIELDS, DEFAULT_CSV_FIELDS, type EventInput, type StoreSchema } from '@eventlog/core';

// What a hand-written application would do around the raw driver: map its event objects to
// column values, and write CSV. Shared by every engine's raw side.

type Accessor = (event: EventInput) => unknown;

const CANONICAL: Record<string, Accessor> = {
  time: (e) => (e.time instanceof Date ? e.time.getTime() : e.time),
  type: (e) => e.type,
  category: (e) => e.category ?? null,
  action: (e) => e.action ?? null,
  outcome: (e) => e.outcome ?? null,
  severity: (e) => e.severity ?? null,
  actor_id: (e) => e.actor?.id ?? null,
  actor_type: (e) => e.actor?.type ?? null,
  actor_name: (e) => e.actor?.name ?? null,
  target_type: (e) => e.target?.type ?? null,
  target_id: (e) => e.target?.id ?? null,
  target_name: (e) => e.target?.name ?? null,
  tenant_id: (e) => e.tenantId ?? null,
  ip: (e) => e.ip ?? null,
  user_agent: (e) => e.userAgent ?? null,
  session_id: (e) => e.sessionId ?? null,
  message: (e) => e.message ?? null,
  duration_ms: (e) => e.durationMs ?? null,
  data: (e) => (e.data === undefined ? null : JSON.stringify(e.data)),
};

/** The insertable columns (everything but `id`) in table order. */
export function insertColumns(schema: StoreSchema): string[] {
  return schema.columns.filter((c) => c.name !== 'id').map((c) => c.name);
}

/** Builds the function turning an event into its column values, in {@link insertColumns} order. */
export function createRowMapper(schema: StoreSchema): (event: EventInput) => unknown[] {
  const accessors: Accessor[] = schema.columns
    .filter((c) => c.name !== 'id')
    .map((c) => {
      if (c.kind === 'canonical') {
        const accessor = CANONICAL[c.name];
        if (!accessor) throw new Error(`raw mapper: no accessor for canonical column ${c.name}`);
        return accessor;
      }
      const name = c.name;
      return c.kind === 'dimension' ? (e) => e.dimensions?.[name] ?? null : (e) => e.metrics?.[name] ?? null;
    });
  const n = accessors.length;
  return (event) => {
    const values = new Array(n);
    for (let i = 0; i < n; i++) values[i] = (accessors[i] as Accessor)(event);
    return values;
  };
}

/** Header names and source columns of eventlog's default CSV export: canonical fields, dimensions, metrics. */
export function csvLayout(schema: StoreSchema): { headers: string[]; columns: string[] } {
  const headers: string[] = [];
  const columns: string[] = [];
  for (const field of DEFAULT_CSV_FIELDS) {
    const canonical = CANONICAL_FIELDS.find((f) => f.field === field);
    if (!canonical) throw new Error(`raw CSV: unknown field ${field}`);
    headers.push(field);
    columns.push(canonical.column);
  }
  for (const kind of ['dimension', 'metric'] as const) {
    for (const c of schema.columns) {
      if (c.kind !== kind) continue;
      headers.push(c.name);
      columns.push(c.name);
    }
  }
  return { headers, columns };
}

/** One CSV cell (RFC 4180 quoting; text a spreadsheet would run as a formula gets a leading `'`). */
export function rawCsvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  let text = String(value);
  const first = text.charCodeAt(0);
  // = + - @ TAB CR
  if (first === 61 || first === 43 || first === 45 || first === 64 || first === 9 || first === 13) text = `'${text}`;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 44 || c === 10 || c === 13) return `"${text.replaceAll('"', '""')}"`;
  }
  return text;
}

/** Builds the function writing one row (an object keyed by column) as a CRLF-terminated CSV record, time in UTC ISO 8601. */
export function createCsvWriter(schema: StoreSchema): { header: string; line: (row: Record<string, unknown>) => string } {
  const { headers, columns } = csvLayout(schema);
  const line = (row: Record<string, unknown>) => {
    let out = '';
    for (let i = 0; i < columns.length; i++) {
      const column = columns[i] as string;
      const value = row[column];
      if (i > 0) out += ',';
      out += column === 'time' ? new Date(Number(value)).toISOString() : rawCsvCell(value);
    }
    return `${out}\r\n`;
  };
  return { header: `${headers.map(rawCsvCell).join(',')}\r\n`, line };
}

/** The metric sums of one aggregate row whose sums are aliased `s0`, `s1`, … (0 for a missing row). */
export function readSums(row: Record<string, unknown> | undefined, metrics: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  metrics.forEach((m, i) => {
    out[m] = Number(row?.[`s${i}`] ?? 0);
  });
  return out;
}

/** Timeline points from rows keyed `k` (bucket start) with count `n`, every empty step filled in. */
export function fillSteps(
  rows: readonly Record<string, unknown>[],
  p: { readonly since: number; readonly until: number; readonly stepMs: number; readonly metrics: readonly string[] },
): { start: number; count: number; sums: Record<string, number> }[] {
  const byStart = new Map(rows.map((r) => [Number(r.k), r]));
  const points = [];
  for (let start = Math.floor(p.since / p.stepMs) * p.stepMs; start < p.until; start += p.stepMs) {
    const row = byStart.get(start);
    points.push({ start, count: row ? Number(row.n) : 0, sums: readSums(row, p.metrics) });
  }
  return points;
}
