import { createIsoFormatter, type StoredEvent } from '@eventlog/core';

const formatters = new Map<string, (time: number) => string>();

/** An ISO 8601 time with milliseconds and the UTC offset of `timeZone` at that instant (the core's formatter, one per zone). */
export function isoInZone(ms: number, timeZone: string): string {
  let format = formatters.get(timeZone);
  if (!format) {
    format = createIsoFormatter(timeZone, { millis: true });
    formatters.set(timeZone, format);
  }
  return format(ms);
}

/** Renders rows as an aligned text table; numbers are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = rows.map((row) => row.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => String(r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (row: readonly string[]) =>
    row
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...cells.map((r) => line(r.map(String)))].join('\n');
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A horizontal bar of block characters, `width` cells at `max`, with eighth-cell precision. */
export function bar(value: number, max: number, width: number): string {
  if (max <= 0 || value <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
}

/** Replaces control characters so a value cannot move the cursor or recolour the terminal. */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}

/** One compact line per event, as `tail` prints it. */
export function eventLine(event: StoredEvent, timeZone: string): string {
  const parts = [isoInZone(event.time, timeZone), event.type];
  if (event.outcome) parts.push(event.outcome);
  if (event.actor.id || event.actor.name) parts.push(`actor=${event.actor.name ?? event.actor.id}`);
  if (event.target.id || event.target.name)
    parts.push(`target=${event.target.type ? `${event.target.type}:` : ''}${event.target.name ?? event.target.id}`);
  if (event.tenantId) parts.push(`tenant=${event.tenantId}`);
  if (event.ip) parts.push(event.ip);
  if (event.message) parts.push(JSON.stringify(event.message.length > 200 ? `${event.message.slice(0, 200)}…` : event.message));
  return printable(`#${event.id} ${parts.join(' ')}`);
}
