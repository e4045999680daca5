import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import type { Timeline } from './api.js';
import { formatNumber, formatTime, TIME_ZONE } from './format.js';

interface ChartProps {
  timeline: Timeline | null;
  metric: string;
  metrics: string[];
  onMetric: (metric: string) => void;
  /** Called with the dragged [since, until) in epoch ms. */
  onZoom: (since: number, until: number) => void;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** The timeline of the filtered events: counts as bars, a metric's sums as a line; drag to zoom the range. */
export function TimelineChart({ timeline, metric, metrics, onMetric, onZoom }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  // Colours come from the theme: draw again when the system switches between light and dark.
  const [scheme, setScheme] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches);
  useEffect(() => {
    const query = matchMedia('(prefers-color-scheme: dark)');
    const onChange = () => setScheme(query.matches);
    query.addEventListener('change', onChange);
    return () => query.removeEventListener('change', onChange);
  }, []);

  useEffect(() => {
    const el = box.current;
    if (!el || !timeline || timeline.points.length === 0) return;
    const points = timeline.points;
    const xs = points.map((p) => p.start / 1000);
    const counts = points.map((p) => p.count);
    const data: uPlot.AlignedData = metric ? [xs, counts, points.map((p) => p.sums[metric] ?? 0)] : [xs, counts];
    const ink = cssVar('--text-muted', '#666');
    const grid = cssVar('--border', '#ddd');
    const accent = cssVar('--accent', '#2563eb');
    const second = cssVar('--accent-2', '#d97706');
    const axis = (scale?: string, side?: number): uPlot.Axis => ({
      stroke: ink,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
      ...(scale ? { scale } : {}),
      ...(side !== undefined ? { side } : {}),
    });
    const step = points.length > 1 ? (points[1]!.start - points[0]!.start) / 1000 : 60;
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height: 180,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), TIME_ZONE),
        cursor: { drag: { x: true, y: false, setScale: false } },
        legend: { show: true },
        scales: { x: { time: true, range: (_u, min, max) => [min, max + step] } },
        axes: [axis(), axis(), ...(metric ? [axis(metric, 1)] : [])],
        series: [
          { label: 'Time', value: (_u, v) => (v == null ? '' : formatTime(v * 1000)) },
          {
            label: 'Events',
            stroke: accent,
            fill: `${accent}55`,
            width: 1,
            paths: uPlot.paths.bars?.({ size: [0.9, 40], align: 1 }),
            points: { show: false },
            value: (_u, v) => (v == null ? '' : formatNumber(v)),
          },
          ...(metric
            ? [
                {
                  label: metric,
                  stroke: second,
                  width: 2,
                  scale: metric,
                  value: (_u: uPlot, v: number | null) => (v == null ? '' : formatNumber(v)),
                },
              ]
            : []),
        ],
        hooks: {
          setSelect: [
            (u) => {
              if (u.select.width < 4) return;
              const since = Math.round(u.posToVal(u.select.left, 'x') * 1000);
              const until = Math.round(u.posToVal(u.select.left + u.select.width, 'x') * 1000);
              u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
              if (until > since) zoom.current(since, until);
            },
          ],
        },
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height: 180 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
    // scheme is read through the CSS variables above.
  }, [timeline, metric, scheme]);

  const total = timeline?.points.reduce((sum, p) => sum + p.count, 0) ?? 0;
  return (
    <section class="chart" aria-label="Timeline">
      <header>
        <h2>Timeline{timeline ? ` (per ${timeline.bucket}, ${timeline.timeZone})` : ''}</h2>
        <label>
          Sum of{' '}
          <select value={metric} onChange={(e) => onMetric(e.currentTarget.value)}>
            <option value="">(events only)</option>
            {metrics.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
      </header>
      <div
        class="plot"
        ref={box}
        role="img"
        aria-label={`Events over time: ${formatNumber(total)} in the range. Drag across the chart to zoom.`}
      />
      {timeline && timeline.points.length === 0 ? <p class="muted">No time range to chart.</p> : null}
      <p class="hint">Drag across the chart to zoom into that time range.</p>
    </section>
  );
}
