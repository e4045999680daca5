import { useEffect, useState } from 'preact/hooks';
import { type Api, AuthError, type OpenSession, type Stats, type TopRow } from './api.js';
import { formatDuration, formatNumber, text } from './format.js';
import { FILTER_FIELDS, labelOf } from './state.js';

/** Count, metric sums and the last minute's rates of the filtered events. */
export function StatsLine({ stats, metrics, showTpm }: { stats: Stats | null; metrics: string[]; showTpm: boolean }) {
  if (!stats) {
    return (
      <p class="stats" aria-live="polite">
        Counting…
      </p>
    );
  }
  const sums = metrics.filter((m) => stats.sums[m] !== undefined);
  return (
    <p class="stats" aria-live="polite">
      <span>
        <strong data-stat="count">{formatNumber(stats.count)}</strong> events
      </span>
      {sums.map((m) => (
        <span key={m}>
          {m} <strong>{formatNumber(stats.sums[m] ?? 0)}</strong>
        </span>
      ))}
      <span>
        RPM <strong>{formatNumber(stats.rpm)}</strong>
      </span>
      {showTpm ? (
        <span>
          TPM <strong>{formatNumber(stats.tpm)}</strong>
        </span>
      ) : null}
    </p>
  );
}

/** Fields a top-N panel can rank, with the filter parameter a picked value becomes. */
const TOP_FIELDS = ['type', 'category', 'outcome', 'severity', 'actorId', 'targetId', 'tenantId', 'ip', 'sessionId'];

interface TopPanelProps {
  by: string;
  rows: TopRow[] | null;
  order: string;
  metrics: string[];
  dimensions: string[];
  onBy: (field: string) => void;
  onOrder: (order: string) => void;
  onPick: (param: string, value: string) => void;
}

export function TopPanel({ by, rows, order, metrics, dimensions, onBy, onOrder, onPick }: TopPanelProps) {
  const param = by in FILTER_FIELDS ? by : `dim.${by}`;
  const score = (row: TopRow) => (order === 'count' ? row.count : (row.sums[order] ?? 0));
  const max = Math.max(1, ...(rows ?? []).map(score));
  const fields = [...TOP_FIELDS, ...dimensions.filter((d) => !TOP_FIELDS.includes(d))];
  return (
    <section class="top-panel" aria-label={`Top ${labelOf(param)}`}>
      <header>
        <h2>Top</h2>
        <label>
          <span class="sr-only">Field</span>
          <select value={by} onChange={(e) => onBy(e.currentTarget.value)}>
            {fields.map((f) => (
              <option key={f} value={f}>
                {labelOf(f in FILTER_FIELDS ? f : `dim.${f}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="sr-only">Rank by</span>
          <select value={order} onChange={(e) => onOrder(e.currentTarget.value)}>
            <option value="count">by count</option>
            {metrics.map((m) => (
              <option key={m} value={m}>
                by {m}
              </option>
            ))}
          </select>
        </label>
      </header>
      {rows === null ? (
        <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted">Nothing to rank.</p>
      ) : (
        <ol>
          {rows.map((row) => (
            <li key={String(row.value)}>
              <button type="button" class="link" title="Filter by this value" onClick={() => onPick(param, text(row.value))}>
                {text(row.value) || '(empty)'}
              </button>
              <meter min={0} max={max} value={score(row)} aria-label={`${text(row.value)}: ${formatNumber(score(row))}`} />
              <span class="num">{formatNumber(score(row))}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

/** Open sessions (live connections, DJ sessions), with their durations ticking every second. */
export function Sessions({ api, onAuthError }: { api: Api; onAuthError: (message: string) => void }) {
  const [sessions, setSessions] = useState<OpenSession[] | null>(null);
  const [loadedAt, setLoadedAt] = useState(0);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const abort = new AbortController();
    const load = () =>
      api
        .get<{ data: OpenSession[] }>('/sessions', new URLSearchParams({ limit: '20' }), abort.signal)
        .then((r) => {
          setSessions(r.data);
          setLoadedAt(Date.now());
        })
        .catch((e: unknown) => {
          if (e instanceof AuthError) onAuthError(e.message);
          else if (!(e instanceof DOMException && e.name === 'AbortError')) setSessions([]);
        });
    load();
    const reload = setInterval(load, 30_000);
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      abort.abort();
      clearInterval(reload);
      clearInterval(tick);
    };
  }, [api, onAuthError]);
  return (
    <section class="sessions" aria-label="Open sessions">
      <header>
        <h2>Open sessions{sessions ? ` (${sessions.length})` : ''}</h2>
      </header>
      {sessions === null ? (
        <p class="muted">Loading…</p>
      ) : sessions.length === 0 ? (
        <p class="muted">No open sessions.</p>
      ) : (
        <ul>
          {sessions.map((s) => (
            <li key={s.sessionId}>
              <span class="session-name">
                {s.type} ·{' '}
                {text(s.event.actor?.name ?? s.event.actor?.id) || text(s.event.target?.name ?? s.event.target?.id) || s.sessionId}
              </span>
              <span class="num" data-duration>
                {formatDuration(s.durationMs + (now - loadedAt))}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
