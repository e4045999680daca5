import type { StoredEvent } from '@eventlog/core';
import { formatSqlTime } from '../zoned-time.js';
import { categoryLabel, LABELS, wireType } from './preset.js';

/** Numeric ids as JSON numbers (MediaCP's ids are integers); anything else as sent. */
function idValue(id: string | null): number | string | null {
  if (id === null) return null;
  return /^[1-9]\d{0,14}$/.test(id) ? Number(id) : id;
}

const relative = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 31_536_000],
  ['month', 2_592_000],
  ['week', 604_800],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

function humanize(time: number, now: number): string {
  const seconds = Math.round((time - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') return relative.format(Math.trunc(seconds / size), unit);
  }
  return relative.format(0, 'second');
}

/** One event as MediaCP's model serialises it, with the formatted attributes the panel shows. @internal */
export function formatLog(event: StoredEvent, now: number, timeZone: string) {
  return {
    id: event.id,
    service_id: idValue(event.target.id),
    service_name: event.target.name,
    customer_id: idValue(event.tenantId),
    customer_name: (event.dimensions.customer_name as string | null | undefined) ?? null,
    category: event.category,
    category_label: categoryLabel(event.category),
    event_type: wireType(event.type),
    event_label: LABELS.get(event.type) ?? wireType(event.type),
    actor_type: event.actor.type,
    actor_id: event.actor.id,
    actor_name: event.actor.name,
    description: event.message,
    ip_address: event.ip,
    metadata: event.data ?? {},
    // Laravel's default date serialisation, which MediaCP's models use.
    created_at: new Date(event.time).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
    created_at_formatted: formatSqlTime(event.time, timeZone),
    created_at_human: humanize(event.time, now),
  };
}
