import { describe, expect, it } from 'vitest';
import { createRowEncoder } from './json-rows.js';

describe('JSONEachRow encoder', () => {
  it('writes one JSON object per line, equal to JSON.stringify of the row with its id', () => {
    const columns = ['id', 'time', 'type', 'message', 'amount', 'quota'];
    const rows = [
      { time: 1, type: 'a', message: 'quote " backslash \\ newline \n NUL \0 ☃ 🚀 \u2028', amount: 0.125, quota: null },
      { time: 2, type: 'b', amount: -1e-7, quota: 2 ** 45, extra: 'ignored' },
    ];
    const text = createRowEncoder(columns)(rows, [10, 11]);
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({ id: 10, ...rows[0] });
    expect(JSON.parse(lines[1]!)).toEqual({ id: 11, time: 2, type: 'b', message: null, amount: -1e-7, quota: 2 ** 45 });
  });

  it('refuses numbers JSON cannot carry', () => {
    const encode = createRowEncoder(['id', 'amount']);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY]) expect(() => encode([{ amount: bad }], [1])).toThrow(/amount/);
    expect(() => createRowEncoder([])).toThrow(TypeError);
  });
});
