import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type Api, AuthError, type EventsPage, type Stats, type StoredEvent, type Timeline, type TopRow } from './api.js';
import { TIME_ZONE } from './format.js';
import { bucketFor, filterParams, RANGE_PRESETS, timeWindow, type ViewState } from './state.js';

export const PAGE_SIZE = 100;

export interface ViewData {
  rows: StoredEvent[];
  nextCursor: string | null;
  loadingRows: boolean;
  stats: Stats | null;
  timeline: Timeline | null;
  top: [TopRow[] | null, TopRow[] | null];
  error: string | null;
  loadMore(): void;
  /** Puts events streamed by the live tail on top of the table (newest first, no duplicates). */
  prepend(events: StoredEvent[]): void;
}

/** Loads the rows, stats, timeline and top-N panels of a view state; every change aborts the previous loads. */
export function useViewData(api: Api, state: ViewState, now: number, onAuthError: (message: string) => void): ViewData {
  const [rows, setRows] = useState<StoredEvent[]>([]);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [loadingRows, setLoadingRows] = useState(true);
  const [stats, setStats] = useState<Stats | null>(null);
  const [timeline, setTimeline] = useState<Timeline | null>(null);
  const [top, setTop] = useState<[TopRow[] | null, TopRow[] | null]>([null, null]);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);

  const fail = useCallback(
    (e: unknown) => {
      if (e instanceof DOMException && e.name === 'AbortError') return;
      if (e instanceof AuthError) onAuthError(e.message);
      else setError(e instanceof Error ? e.message : String(e));
    },
    [onAuthError],
  );

  useEffect(() => {
    const abort = new AbortController();
    const { signal } = abort;
    const mine = ++generation.current;
    const filter = filterParams(state, now);
    setError(null);
    setLoadingRows(true);
    setRows([]);
    setNextCursor(null);
    setStats(null);
    setTimeline(null);
    setTop([null, null]);

    const page = new URLSearchParams(filter);
    page.set('limit', String(PAGE_SIZE));
    const rowsLoaded = api
      .get<EventsPage>('/events', page, signal)
      .then((result) => {
        if (generation.current !== mine) return;
        setRows(result.data);
        setNextCursor(result.nextCursor);
        setLoadingRows(false);
      })
      .catch(fail);
    // The aggregates start once the rows are in: on a single-connection store (SQLite) they would
    // otherwise queue in front of the page of rows, which a person needs first.
    const loadAggregates = () => {
      api
        .get<{ data: Stats }>('/stats', filter, signal)
        .then((r) => setStats(r.data))
        .catch(fail);

      const window = timeWindow(state, now);
      const span = (window.until ?? now) - (window.since ?? now - RANGE_PRESETS['30d']);
      const chart = new URLSearchParams(filter);
      chart.set('bucket', state.range === 'all' ? 'day' : bucketFor(span));
      chart.set('timeZone', TIME_ZONE);
      if (state.metric) chart.set('metrics', state.metric);
      api
        .get<{ data: Timeline }>('/timeline', chart, signal)
        .then((r) => setTimeline(r.data))
        .catch(fail);

      state.top.forEach((by, index) => {
        const params = new URLSearchParams(filter);
        params.set('by', by);
        params.set('limit', '8');
        if (state.topOrder !== 'count') params.set('orderBy', state.topOrder);
        api
          .get<{ data: TopRow[] }>('/top', params, signal)
          .then((r) => setTop((current) => (index === 0 ? [r.data, current[1]] : [current[0], r.data])))
          .catch((e) => {
            // A panel over a field this log cannot rank answers 400: show it empty rather than fail the page.
            if (e instanceof AuthError) fail(e);
            else setTop((current) => (index === 0 ? [[], current[1]] : [current[0], []]));
          });
      });
    };
    void rowsLoaded.finally(() => {
      if (!signal.aborted) loadAggregates();
    });
    return () => abort.abort();
  }, [api, state, now, fail]);

  // The cursor being fetched: the button and the infinite-scroll observer can both ask within one render.
  const fetching = useRef<string | null>(null);
  const loadMore = useCallback(() => {
    if (!nextCursor || loadingRows || fetching.current === nextCursor) return;
    fetching.current = nextCursor;
    const mine = generation.current;
    const params = filterParams(state, now);
    params.set('limit', String(PAGE_SIZE));
    params.set('cursor', nextCursor);
    setLoadingRows(true);
    api
      .get<EventsPage>('/events', params)
      .then((result) => {
        if (generation.current !== mine) return;
        setRows((current) => {
          const seen = new Set(current.map((e) => e.id));
          return [...current, ...result.data.filter((e) => !seen.has(e.id))];
        });
        setNextCursor(result.nextCursor);
        setLoadingRows(false);
      })
      .catch((e) => {
        setLoadingRows(false);
        fail(e);
      })
      .finally(() => {
        fetching.current = null;
      });
  }, [api, state, now, nextCursor, loadingRows, fail]);

  const prepend = useCallback((events: StoredEvent[]) => {
    setRows((current) => {
      const seen = new Set(current.map((e) => e.id));
      const fresh = events.filter((e) => !seen.has(e.id)).sort((a, b) => b.time - a.time || b.id - a.id);
      return fresh.length ? [...fresh, ...current] : current;
    });
  }, []);

  return { rows, nextCursor, loadingRows, stats, timeline, top, error, loadMore, prepend };
}
