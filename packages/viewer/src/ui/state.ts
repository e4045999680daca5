/** The whole view state, kept in the page URL's query string so a link reproduces it. */
export interface ViewState {
  /** Field filters: a native API parameter (`type`, `dim.model`, …) → values (OR). */
  readonly filters: ReadonlyArray<readonly [string, string]>;
  /** Keyword search. */
  readonly search: string;
  /** A relative range preset, or `custom` with since/until. */
  readonly range: RangePreset | 'custom';
  /** Epoch ms, with range `custom`. */
  readonly since?: number;
  /** Epoch ms, exclusive, with range `custom`. */
  readonly until?: number;
  /** A declared metric summed on the timeline, or empty. */
  readonly metric: string;
  /** The fields of the two top-N panels. */
  readonly top: readonly [string, string];
  /** What the top-N panels rank by: `count` or a metric. */
  readonly topOrder: string;
}

export const RANGE_PRESETS = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  all: 0,
} as const;
export type RangePreset = keyof typeof RANGE_PRESETS;
export const RANGE_LABELS: Record<RangePreset, string> = {
  '15m': 'Last 15 min',
  '1h': 'Last 1 h',
  '24h': 'Last 24 h',
  '7d': 'Last 7 d',
  '30d': 'Last 30 d',
  all: 'All time',
};
export const DEFAULT_RANGE: RangePreset = '24h';

/** Filterable canonical fields, as the native API names them, with their labels. */
export const FILTER_FIELDS: Record<string, string> = {
  type: 'Type',
  category: 'Category',
  action: 'Action',
  outcome: 'Outcome',
  severity: 'Severity',
  tenantId: 'Tenant',
  actorId: 'Actor',
  actorName: 'Actor name',
  targetType: 'Target type',
  targetId: 'Target',
  sessionId: 'Session',
  ip: 'IP',
};

const DEFAULT_TOP: readonly [string, string] = ['type', 'actorId'];
const FIELD_PARAM = /^(?:[a-zA-Z]+|dim\.[a-z][a-z0-9_]{0,47})$/;

export function isFilterParam(name: string): boolean {
  return name in FILTER_FIELDS || /^dim\.[a-z][a-z0-9_]{0,47}$/.test(name);
}

export function labelOf(param: string): string {
  return FILTER_FIELDS[param] ?? (param.startsWith('dim.') ? param.slice(4) : param);
}

export function parseState(search: string): ViewState {
  const params = new URLSearchParams(search);
  const filters: Array<[string, string]> = [];
  for (const [key, value] of params) {
    if (value !== '' && FIELD_PARAM.test(key) && isFilterParam(key) && !filters.some(([k, v]) => k === key && v === value)) {
      filters.push([key, value]);
    }
  }
  const range = params.get('range');
  const since = toTime(params.get('since'));
  const until = toTime(params.get('until'));
  const custom = since !== undefined || until !== undefined;
  const top = (params.get('top') ?? '').split(',').filter(Boolean);
  return {
    filters,
    search: params.get('search') ?? '',
    range: custom ? 'custom' : range && range in RANGE_PRESETS ? (range as RangePreset) : DEFAULT_RANGE,
    ...(since !== undefined ? { since } : {}),
    ...(until !== undefined ? { until } : {}),
    metric: params.get('metric') ?? '',
    top: [top[0] ?? DEFAULT_TOP[0], top[1] ?? DEFAULT_TOP[1]],
    topOrder: params.get('topOrder') ?? 'count',
  };
}

export function serializeState(state: ViewState): string {
  const params = new URLSearchParams();
  if (state.range === 'custom') {
    if (state.since !== undefined) params.set('since', String(state.since));
    if (state.until !== undefined) params.set('until', String(state.until));
  } else if (state.range !== DEFAULT_RANGE) params.set('range', state.range);
  for (const [key, value] of state.filters) params.append(key, value);
  if (state.search) params.set('search', state.search);
  if (state.metric) params.set('metric', state.metric);
  if (state.top[0] !== DEFAULT_TOP[0] || state.top[1] !== DEFAULT_TOP[1]) params.set('top', state.top.join(','));
  if (state.topOrder !== 'count') params.set('topOrder', state.topOrder);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** The [since, until) the state means at `now` (until undefined = open-ended). */
export function timeWindow(state: ViewState, now: number): { since?: number; until?: number } {
  if (state.range === 'custom')
    return { ...(state.since !== undefined ? { since: state.since } : {}), ...(state.until !== undefined ? { until: state.until } : {}) };
  const span = RANGE_PRESETS[state.range];
  return span ? { since: now - span } : {};
}

/** The native API filter parameters of a state at `now`. */
export function filterParams(state: ViewState, now: number, withTime = true): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of state.filters) params.append(key, value);
  if (state.search) params.set('search', state.search);
  if (withTime) {
    const { since, until } = timeWindow(state, now);
    if (since !== undefined) params.set('since', String(since));
    if (until !== undefined) params.set('until', String(until));
  }
  return params;
}

/** A timeline bucket that keeps the range within a readable number of points. */
export function bucketFor(span: number): 'minute' | 'hour' | 'day' {
  if (span <= 6 * 3_600_000) return 'minute';
  if (span <= 14 * 86_400_000) return 'hour';
  return 'day';
}

function toTime(value: string | null): number | undefined {
  if (!value || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}
