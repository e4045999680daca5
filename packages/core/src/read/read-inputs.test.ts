import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { describe, expect, it } from 'vitest';
import { isEventLogError } from '../errors.js';
import { createEventLog } from '../event-log.js';

const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);

async function messageOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(isEventLogError(error, 'VALIDATION_FAILED'), String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('each read parses its input with one schema', () => {
  it('names the field and the rule, once, for every operation', async () => {
    const log = createEventLog({ store: createSqliteStore(), clock: () => NOW, metrics: [{ name: 'bytes' }] });
    const cases: [() => unknown, string][] = [
      [() => log.get(0), 'id: must be a positive whole number'],
      [() => log.get(1.5), 'id: must be a positive whole number'],
      [() => log.top({ by: 'message' }), 'by: "message" is not a field or dimension'],
      [() => log.top({ by: 'ip', limit: 0.5 }), 'limit: must be a whole number from 1 to 1000'],
      [() => log.top({ by: 'ip', orderBy: 'nope' }), 'orderBy: must be "count" or a declared metric'],
      [() => log.timeline({ metrics: ['nope'] }), 'metrics: "nope" is not a declared metric'],
      [() => log.timeline({ timeZone: 'Mars/Olympus' }), 'timeZone: is not an IANA time zone'],
      [() => log.timeline({ bucket: 'week' as never }), 'bucket: must be one of minute, hour, day'],
      [() => log.sessions.list({ limit: 0 }), 'limit: must be a whole number from 1 to 1000'],
      [() => log.sessions.list({ offset: -1 }), 'offset: must be a whole number from 0 to 100000'],
      [() => log.prune({ before: 'soon' }), 'before: must be a time'],
      [() => log.prune({ before: NOW, batchSize: 0 }), 'batchSize: must be a whole number from 1 to 100000'],
      [() => log.exportCsv({ batchSize: 0 }), 'batchSize: must be a whole number from 1 to 50000'],
      [() => log.exportCsv({ order: 'sideways' as never }), 'order: must be asc or desc'],
      [() => log.query({ pageSize: 1001 }), 'pageSize: must be at most 1000'],
    ];
    for (const [run, message] of cases) expect(await messageOf(run)).toBe(message);
    await log.close();
  });

  it('treats null options as absent, as before', async () => {
    const log = createEventLog({ store: createSqliteStore(), clock: () => NOW });
    await log.record({ type: 'a', time: NOW - 1000 });
    const timeline = await log.timeline({ bucket: null, timeZone: null, metrics: null } as never);
    expect(timeline.bucket).toBe('hour');
    expect(timeline.points.reduce((n, p) => n + p.count, 0)).toBe(1);
    expect(await log.top({ by: 'type', limit: null, orderBy: null } as never)).toEqual([{ value: 'a', count: 1, sums: {} }]);
    let csv = '';
    for await (const chunk of log.exportCsv({ columns: ['type'], header: null, order: null } as never)) csv += chunk;
    expect(csv).toBe('type\r\na\r\n');
    await log.close();
  });
});
