import { seeded } from '@eventlog/adapters/testing';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalRow, hashedColumns, sortedValue } from './canonical.js';

const KEYS = ['a', 'B', 'b', '0', '10', '2', '4294967295', '01', '__proto__', 'é', '\u{1F600}', 'x\0y', 'x\ufffdy', '', '-1'];
const STRINGS = ['', 'plain', 'nul\0in', 'quote"and\\slash', 'line\nbreak', '\u2028', '\u{1F600}'];

function randomValue(random: () => number, depth: number): unknown {
  const r = random();
  if (depth > 3 || r < 0.35) {
    const pick = random();
    if (pick < 0.3) return STRINGS[Math.floor(random() * STRINGS.length)];
    if (pick < 0.6) return Math.round((random() - 0.5) * 1e6) / (random() < 0.5 ? 1 : 1000);
    if (pick < 0.75) return random() < 0.5;
    if (pick < 0.9) return null;
    return 1e21 * random();
  }
  if (r < 0.6) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(random, depth + 1));
  const out: Record<string, unknown> = {};
  const n = Math.floor(random() * 6);
  for (let i = 0; i < n; i++) {
    Object.defineProperty(out, KEYS[Math.floor(random() * KEYS.length)] as string, {
      value: randomValue(random, depth + 1),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return out;
}

describe('canonical serialisation', () => {
  it('writes exactly what JSON.stringify of the rebuilt, key-sorted value writes', () => {
    const random = seeded(15);
    for (let i = 0; i < 5000; i++) {
      const value = JSON.parse(JSON.stringify(randomValue(random, 0)) ?? 'null');
      expect(canonicalJson(value)).toBe(JSON.stringify(sortedValue(value)));
    }
  });

  it('keeps the row serialisation of format 1 byte for byte', () => {
    const columns = hashedColumns([
      { name: 'id', type: 'integer' },
      { name: 'type', type: 'string' },
      { name: 'time', type: 'integer' },
      { name: 'amount', type: 'float' },
      { name: 'data', type: 'json' },
      { name: 'message', type: 'text' },
      { name: 'chain_seq', type: 'integer' },
      { name: 'chain_hash', type: 'string' },
      { name: 'tenant_id', type: 'string' },
    ]);
    const row = {
      id: 7,
      type: 'a\0b',
      time: '1700000000000',
      amount: 'NaN',
      data: '{"z":1,"10":[{"b":2,"a":"\\u0000"}],"2":null,"a":1.50}',
      message: 'hi',
      chain_seq: 3,
      chain_hash: 'f'.repeat(64),
      tenant_id: null,
    };
    expect(canonicalRow(row, columns)).toBe(
      '{"amount":"NaN","data":{"2":null,"10":[{"a":"\ufffd","b":2}],"a":1.5,"z":1},"message":"hi","time":1700000000000,"type":"a\ufffdb"}',
    );
    expect(canonicalRow({ ...row, data: '{not json' }, columns)).toContain('"data":"!invalid-json:{not json"');
  });
});
