import type { RefObject } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { formatTime } from './format.js';
import { FILTER_FIELDS, labelOf, RANGE_LABELS, RANGE_PRESETS, type RangePreset, type ViewState } from './state.js';

interface FilterBarProps {
  state: ViewState;
  navigate: (next: ViewState) => void;
  dimensions: string[];
  /** Declared event types, suggested as values of the type filter. */
  types: string[];
  searchRef: RefObject<HTMLInputElement | null>;
}

/** `yyyy-mm-ddThh:mm` in the browser's zone, for datetime-local inputs. */
function toLocalInput(ms: number | undefined): string {
  if (ms === undefined) return '';
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function FilterBar({ state, navigate, dimensions, types, searchRef }: FilterBarProps) {
  const [search, setSearch] = useState(state.search);
  const [field, setField] = useState('type');
  const [value, setValue] = useState('');
  const [from, setFrom] = useState(toLocalInput(state.since));
  const [to, setTo] = useState(toLocalInput(state.until));
  useEffect(() => setSearch(state.search), [state.search]);
  useEffect(() => {
    setFrom(toLocalInput(state.since));
    setTo(toLocalInput(state.until));
  }, [state.since, state.until]);

  const fields = [...Object.keys(FILTER_FIELDS), ...dimensions.map((d) => `dim.${d}`)];
  const removeAt = (index: number) => navigate({ ...state, filters: state.filters.filter((_, i) => i !== index) });
  const applyRange = (event: Event) => {
    event.preventDefault();
    const since = from ? new Date(from).getTime() : undefined;
    const until = to ? new Date(to).getTime() : undefined;
    if (since === undefined && until === undefined) return;
    navigate({ ...state, range: 'custom', since, until });
  };

  return (
    <section class="filters" aria-label="Filters">
      <fieldset class="presets">
        <legend class="sr-only">Time range</legend>
        {(Object.keys(RANGE_PRESETS) as RangePreset[]).map((preset) => (
          <button
            type="button"
            key={preset}
            aria-pressed={state.range === preset}
            onClick={() => navigate({ ...state, range: preset, since: undefined, until: undefined })}
          >
            {RANGE_LABELS[preset]}
          </button>
        ))}
      </fieldset>
      <form class="range" onSubmit={applyRange} aria-label="Custom time range">
        <label>
          From <input type="datetime-local" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To <input type="datetime-local" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
        </label>
        <button type="submit">Apply range</button>
      </form>
      <form
        class="search"
        aria-label="Search"
        onSubmit={(event) => {
          event.preventDefault();
          navigate({ ...state, search: search.trim() });
        }}
      >
        <label>
          <span class="sr-only">Search messages, types and actions</span>
          <input
            ref={searchRef}
            type="search"
            name="search"
            placeholder="Search (press /)"
            maxLength={200}
            value={search}
            onInput={(e) => setSearch(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Search</button>
      </form>
      <form
        class="add-filter"
        aria-label="Add a filter"
        onSubmit={(event) => {
          event.preventDefault();
          const v = value.trim();
          if (!v || state.filters.some(([k, x]) => k === field && x === v)) return;
          navigate({ ...state, filters: [...state.filters, [field, v]] });
          setValue('');
        }}
      >
        <label>
          <span class="sr-only">Field</span>
          <select name="field" value={field} onChange={(e) => setField(e.currentTarget.value)}>
            {fields.map((f) => (
              <option key={f} value={f}>
                {labelOf(f)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span class="sr-only">Value</span>
          <input
            name="value"
            placeholder="value"
            maxLength={255}
            list={field === 'type' ? 'type-suggestions' : undefined}
            value={value}
            onInput={(e) => setValue(e.currentTarget.value)}
          />
        </label>
        <button type="submit">Add filter</button>
        <datalist id="type-suggestions">
          {types.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      </form>
      <ul class="chips" aria-label="Active filters">
        {state.range === 'custom' ? (
          <li class="chip">
            <span>
              Time: {state.since !== undefined ? formatTime(state.since) : '…'} –{' '}
              {state.until !== undefined ? formatTime(state.until) : 'now'}
            </span>
            <button
              type="button"
              aria-label="Remove the time range filter"
              onClick={() => navigate({ ...state, range: '24h', since: undefined, until: undefined })}
            >
              ×
            </button>
          </li>
        ) : null}
        {state.search ? (
          <li class="chip">
            <span>Search: {state.search}</span>
            <button type="button" aria-label={`Remove the search ${state.search}`} onClick={() => navigate({ ...state, search: '' })}>
              ×
            </button>
          </li>
        ) : null}
        {state.filters.map(([key, v], index) => (
          <li class="chip" key={`${key}=${v}`} data-filter={key}>
            <span>
              {labelOf(key)}: {v}
            </span>
            <button type="button" aria-label={`Remove the filter ${labelOf(key)} ${v}`} onClick={() => removeAt(index)}>
              ×
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
