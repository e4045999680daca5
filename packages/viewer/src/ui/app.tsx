import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type Api, AuthError, namesOf, type SchemaInfo, type StoredEvent, type Whoami } from './api.js';
import { TimelineChart } from './chart.js';
import { useViewData } from './data.js';
import { Detail } from './detail.js';
import { FilterBar } from './filters.js';
import { TIME_ZONE } from './format.js';
import { Sessions, StatsLine, TopPanel } from './panels.js';
import { filterParams, parseState, serializeState, type ViewState } from './state.js';
import { EventTable } from './table.js';

/** A page that shows only a message: no token, or a token the API refused. */
export function Blocked({ title, message }: { title: string; message: string }) {
  return (
    <main class="blocked">
      <h1>{title}</h1>
      <p role="alert" class="blocked-message">
        {message}
      </p>
    </main>
  );
}

export interface AppProps {
  api: Api;
  /** The native API's path, for the hints of the empty state. */
  apiBase: string;
  title: string;
}

export function App({ api, apiBase, title }: AppProps) {
  const [state, setState] = useState<ViewState>(() => parseState(window.location.search));
  // The moment relative ranges are measured from: fixed per view, so rows, stats and chart agree.
  const [now, setNow] = useState(() => Date.now());
  const [authError, setAuthError] = useState<string | null>(null);
  const [whoami, setWhoami] = useState<Whoami | null>(null);
  const [schema, setSchema] = useState<SchemaInfo | null>(null);
  const [selected, setSelected] = useState(-1);
  const [detail, setDetail] = useState<StoredEvent | null>(null);
  const [live, setLive] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const searchRef = useRef<HTMLInputElement>(null);

  const onAuthError = useCallback((message: string) => setAuthError(message), []);
  const data = useViewData(api, state, now, onAuthError);

  const navigate = useCallback((next: ViewState) => {
    history.pushState(null, '', `${window.location.pathname}${serializeState(next)}`);
    setState(next);
    setNow(Date.now());
    setSelected(-1);
    setDetail(null);
  }, []);

  useEffect(() => {
    const onPop = () => {
      setState(parseState(window.location.search));
      setNow(Date.now());
      setSelected(-1);
      setDetail(null);
    };
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);

  useEffect(() => {
    const abort = new AbortController();
    const guard = (e: unknown) => {
      if (e instanceof AuthError) setAuthError(e.message);
    };
    api
      .optional<{ data?: Whoami } & Whoami>('/whoami', abort.signal)
      .then((r) => r && setWhoami(r.data ?? r))
      .catch(guard);
    api
      .optional<{ data?: SchemaInfo } & SchemaInfo>('/schema', abort.signal)
      .then((r) => r && setSchema(r.data ?? r))
      .catch(guard);
    return () => abort.abort();
  }, [api]);

  const metrics = useMemo(() => {
    const declared = namesOf(schema?.metrics);
    return declared.length ? declared : Object.keys(data.stats?.sums ?? {}).sort();
  }, [schema, data.stats]);
  const dimensions = useMemo(() => {
    const declared = namesOf(schema?.dimensions);
    if (declared.length) return declared;
    const seen = new Set<string>();
    for (const row of data.rows.slice(0, 200)) for (const key of Object.keys(row.dimensions ?? {})) seen.add(key);
    for (const [key] of state.filters) if (key.startsWith('dim.')) seen.add(key.slice(4));
    return [...seen].sort();
  }, [schema, data.rows, state.filters]);

  const addFilter = useCallback(
    (param: string, value: string) => {
      if (state.filters.some(([k, v]) => k === param && v === value)) return;
      navigate({ ...state, filters: [...state.filters, [param, value]] });
    },
    [state, navigate],
  );

  const open = useCallback(
    (index: number) => {
      const row = data.rows[index];
      if (!row) return;
      setSelected(index);
      setDetail(row);
    },
    [data.rows],
  );

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      const typing = target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA');
      if (event.key === 'Escape') {
        if (detail) setDetail(null);
        else if (typing) target.blur();
        return;
      }
      if (typing) return;
      if (event.key === '/') {
        event.preventDefault();
        searchRef.current?.focus();
      } else if (event.key === 'j' || event.key === 'ArrowDown') {
        event.preventDefault();
        setSelected((i) => Math.min(i + 1, data.rows.length - 1));
      } else if (event.key === 'k' || event.key === 'ArrowUp') {
        event.preventDefault();
        setSelected((i) => Math.max(i - 1, 0));
      } else if (event.key === 'Enter' && selected >= 0 && target?.tagName !== 'BUTTON' && target?.tagName !== 'A') {
        event.preventDefault();
        open(selected);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [data.rows.length, detail, selected, open]);

  const exportCsv = useCallback(async () => {
    setNotice('Preparing the CSV export…');
    try {
      const params = filterParams(state, now);
      params.set('timeZone', TIME_ZONE);
      const blob = await api.blob('/export.csv', params);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = 'events.csv';
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setNotice('CSV export downloaded.');
    } catch (e) {
      if (e instanceof AuthError) setAuthError(e.message);
      else setNotice(`The export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }, [api, state, now]);

  const copyLink = useCallback(() => {
    // The address bar never holds the token, so the link is safe to share; the recipient needs their own token.
    navigator.clipboard?.writeText(window.location.href).then(
      () => setNotice('Link to this view copied (without your token).'),
      () => setNotice('Copying is not allowed here; copy the address bar instead.'),
    );
  }, []);

  if (authError !== null) {
    const advice = /new link/i.test(authError) ? '' : ' Viewer links expire: ask whoever shared it for a new link.';
    return <Blocked title={title} message={`This viewer link cannot be used. ${authError}${advice}`} />;
  }

  const who = whoami?.principal;
  const expires = whoami?.expiresAt ? new Date(whoami.expiresAt).getTime() : null;
  const liveDisabled = state.range === 'custom' && state.until !== undefined && state.until < Date.now();
  return (
    <div class={detail ? 'layout with-detail' : 'layout'}>
      <header class="top">
        <h1>{title}</h1>
        {who ? (
          <span class="who">
            {who.id ? `${who.role} ${who.id}` : who.role}
            {expires ? ` · link valid until ${new Date(expires).toLocaleString()}` : ''}
          </span>
        ) : null}
        <span class="actions">
          <button type="button" onClick={() => setNow(Date.now())}>
            Refresh
          </button>
          <button
            type="button"
            aria-pressed={live}
            disabled={liveDisabled}
            title={liveDisabled ? 'The time range ends in the past' : 'Stream new events into the table'}
            class={live ? 'live on' : 'live'}
            onClick={() => setLive((v) => !v)}
          >
            {live ? '● Live' : 'Live tail'}
          </button>
          <button type="button" onClick={exportCsv}>
            Export CSV
          </button>
          <button type="button" onClick={copyLink}>
            Copy link
          </button>
        </span>
      </header>
      <FilterBar state={state} navigate={navigate} dimensions={dimensions} types={namesOf(schema?.types)} searchRef={searchRef} />
      <p class="notice" role="status">
        {notice ?? ''}
      </p>
      {data.error ? (
        <p class="error" role="alert">
          {data.error}
        </p>
      ) : null}
      <StatsLine
        stats={data.stats}
        metrics={metrics}
        showTpm={schema?.tpmMetrics ? schema.tpmMetrics.length > 0 : metrics.some((m) => /token/i.test(m))}
      />
      <section class="overview" aria-label="Overview">
        <TimelineChart
          timeline={data.timeline}
          metric={state.metric}
          metrics={metrics}
          onMetric={(metric) => navigate({ ...state, metric })}
          onZoom={(since, until) => navigate({ ...state, range: 'custom', since, until })}
        />
        <div class="panels">
          {state.top.map((by, index) => (
            <TopPanel
              key={index}
              by={by}
              rows={data.top[index as 0 | 1]}
              order={state.topOrder}
              metrics={metrics}
              dimensions={dimensions}
              onBy={(field) => navigate({ ...state, top: index === 0 ? [field, state.top[1]] : [state.top[0], field] })}
              onOrder={(topOrder) => navigate({ ...state, topOrder })}
              onPick={addFilter}
            />
          ))}
          <Sessions api={api} onAuthError={onAuthError} />
        </div>
      </section>
      <EventTable
        data={data}
        state={state}
        api={api}
        apiBase={apiBase}
        live={live && !liveDisabled}
        selected={selected}
        onSelect={setSelected}
        onOpen={open}
        onAuthError={onAuthError}
      />
      {detail ? <Detail event={detail} onClose={() => setDetail(null)} onFilter={addFilter} /> : null}
    </div>
  );
}
