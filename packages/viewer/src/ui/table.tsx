import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, AuthError, type StoredEvent } from './api.js';
import type { ViewData } from './data.js';
import { formatTime, text } from './format.js';
import { filterParams, type ViewState } from './state.js';

interface EventTableProps {
  data: ViewData;
  state: ViewState;
  api: Api;
  apiBase: string;
  live: boolean;
  selected: number;
  onSelect: (index: number) => void;
  onOpen: (index: number) => void;
  onAuthError: (message: string) => void;
}

/** Rows from the top of the scroller within which the person counts as "at the top" (live rows flow in). */
const AT_TOP_PX = 8;

export function EventTable({ data, state, api, apiBase, live, selected, onSelect, onOpen, onAuthError }: EventTableProps) {
  const scroller = useRef<HTMLElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const [held, setHeld] = useState<StoredEvent[]>([]);
  const heldRef = useRef<StoredEvent[]>([]);
  const [tailError, setTailError] = useState<string | null>(null);
  const { rows, loadMore, prepend } = data;

  // Infinite scroll: the next keyset page when the end of the table comes into view.
  useEffect(() => {
    const end = sentinel.current;
    if (!end || !data.nextCursor) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) loadMore();
    });
    observer.observe(end);
    return () => observer.disconnect();
  }, [data.nextCursor, loadMore]);

  useEffect(() => {
    const row = scroller.current?.querySelector<HTMLElement>(`tr[data-index="${selected}"]`);
    row?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  // The live tail: new matching events go on top while the table is scrolled to the top, and are
  // held (and counted) while the person reads further down.
  useEffect(() => {
    heldRef.current = [];
    setHeld([]);
    if (!live) return;
    const abort = new AbortController();
    const atTop = () => (scroller.current?.scrollTop ?? 0) <= AT_TOP_PX;
    setTailError(null);
    api
      .tail(
        filterParams(state, Date.now(), false),
        (event) => {
          if (atTop() && heldRef.current.length === 0) prepend([event]);
          else {
            heldRef.current = [...heldRef.current, event];
            setHeld(heldRef.current);
          }
        },
        abort.signal,
      )
      .catch((e: unknown) => {
        if (e instanceof DOMException && e.name === 'AbortError') return;
        if (e instanceof AuthError) onAuthError(e.message);
        else setTailError(`The live tail stopped: ${e instanceof Error ? e.message : String(e)}`);
      });
    return () => abort.abort();
  }, [api, state, live, prepend, onAuthError]);

  const release = () => {
    if (!heldRef.current.length) return;
    prepend(heldRef.current);
    heldRef.current = [];
    setHeld([]);
  };
  const onScroll = () => {
    if ((scroller.current?.scrollTop ?? 0) <= AT_TOP_PX) release();
  };

  return (
    <section class="events" aria-label="Events">
      {live ? (
        <p class="tail-status" role="status">
          {held.length
            ? `Live tail paused while you scroll: ${held.length} new event${held.length === 1 ? '' : 's'} waiting.`
            : 'Live tail on: new events appear at the top.'}
          {held.length ? (
            <button
              type="button"
              onClick={() => {
                scroller.current?.scrollTo({ top: 0 });
                release();
              }}
            >
              Show them
            </button>
          ) : null}
          {tailError ? <span class="error">{tailError}</span> : null}
        </p>
      ) : null}
      <section
        class="scroller"
        ref={scroller}
        onScroll={onScroll}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable from the keyboard (WCAG 2.1.1).
        tabIndex={0}
        aria-label="Event list (j/k or arrows to move, Enter for details)"
      >
        <table>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Type</th>
              <th scope="col" class="wide">
                Category
              </th>
              <th scope="col">Outcome</th>
              <th scope="col" class="wide">
                Severity
              </th>
              <th scope="col">Actor</th>
              <th scope="col" class="wide">
                Target
              </th>
              <th scope="col" class="wide">
                Tenant
              </th>
              <th scope="col">Message</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((event, index) => (
              <tr
                key={event.id}
                data-id={event.id}
                data-index={index}
                class={index === selected ? 'selected' : undefined}
                onClick={() => {
                  onSelect(index);
                  onOpen(index);
                }}
              >
                <td class="time">
                  <time dateTime={new Date(event.time).toISOString()}>{formatTime(event.time)}</time>
                </td>
                <td>{event.type}</td>
                <td class="wide">{text(event.category)}</td>
                <td class={`outcome ${outcomeClass(event.outcome)}`}>{text(event.outcome)}</td>
                <td class="wide">{text(event.severity)}</td>
                <td>{text(event.actor?.name ?? event.actor?.id)}</td>
                <td class="wide">{text(event.target?.name ?? event.target?.id)}</td>
                <td class="wide">{text(event.tenantId)}</td>
                <td class="message">{text(event.message)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!data.loadingRows && rows.length === 0 && !data.error ? <EmptyState state={state} apiBase={apiBase} /> : null}
        <div ref={sentinel} class="end">
          {data.loadingRows ? (
            <span role="status">Loading events…</span>
          ) : data.nextCursor ? (
            <button type="button" onClick={loadMore}>
              Load more
            </button>
          ) : rows.length ? (
            <span>End of the events in this view ({rows.length}).</span>
          ) : null}
        </div>
      </section>
    </section>
  );
}

function outcomeClass(outcome: string | null): string {
  const o = (outcome ?? '').toLowerCase();
  if (/fail|error|denied|blocked|reject/.test(o)) return 'bad';
  if (/success|ok|access|allow/.test(o)) return 'good';
  return '';
}

function EmptyState({ state, apiBase }: { state: ViewState; apiBase: string }) {
  const narrowed = state.filters.length > 0 || state.search !== '' || state.range !== 'all';
  return (
    <div class="empty">
      <h2>No events in this view</h2>
      {narrowed ? (
        <p>
          Nothing matches these filters in this time range. Remove a filter chip above, clear the search, or choose a wider range such as
          “All time”.
        </p>
      ) : (
        <p>This log holds no events you may see yet.</p>
      )}
      <p>
        Events appear here as soon as the application records them, for example with <code>log.record(…)</code> or{' '}
        <code>POST {apiBase}/events</code>. Turn on the live tail to watch them arrive.
      </p>
    </div>
  );
}
