import { describe, expect, it } from 'vitest';
import { createIdGenerator, ID_EPOCH_MS, ID_NODE_BITS, ID_SEQUENCE_BITS, ID_TICK_MS, processIdGenerator } from './ids.js';

const SEQUENCES = 2 ** ID_SEQUENCE_BITS;
const decode = (id: number) => ({
  tick: Math.floor(id / 2 ** (ID_NODE_BITS + ID_SEQUENCE_BITS)),
  node: Math.floor(id / SEQUENCES) % 2 ** ID_NODE_BITS,
  sequence: id % SEQUENCES,
});

describe('generated ids', () => {
  it('lay out time, node and sequence as documented', () => {
    const now = ID_EPOCH_MS + 12_345 * ID_TICK_MS + 3;
    const [a, b] = createIdGenerator(5, () => now).next(2);
    expect(decode(a!)).toEqual({ tick: 12_345, node: 5, sequence: 0 });
    expect(decode(b!)).toEqual({ tick: 12_345, node: 5, sequence: 1 });
  });

  it('strictly increase, borrow the next tick when one is used up, and never go back with the clock', () => {
    let now = ID_EPOCH_MS + 1000 * ID_TICK_MS;
    const ids = createIdGenerator(0, () => now);
    const burst = ids.next(3 * SEQUENCES + 10);
    expect(new Set(burst).size).toBe(burst.length);
    for (let i = 1; i < burst.length; i++) expect(burst[i]!).toBeGreaterThan(burst[i - 1]!);
    expect(decode(burst.at(-1)!).tick).toBe(1003);
    now -= 60_000; // the wall clock steps back a minute
    const after = ids.next(5);
    expect(after[0]!).toBeGreaterThan(burst.at(-1)!);
    now += 10 * 60_000;
    const later = ids.next(1)[0]!;
    expect(decode(later)).toMatchObject({ tick: Math.floor((now - ID_EPOCH_MS) / ID_TICK_MS), sequence: 0 });
  });

  it('never collide across nodes writing in the same tick', () => {
    const now = () => ID_EPOCH_MS + 77 * ID_TICK_MS;
    const all = [createIdGenerator(0, now), createIdGenerator(1, now), createIdGenerator(127, now)].flatMap((g) => g.next(SEQUENCES * 2));
    expect(new Set(all).size).toBe(all.length);
  });

  it('stay safe integers until 2112 and refuse clocks outside the range', () => {
    const last = createIdGenerator(127, () => Date.UTC(2112, 0, 1)).next(1)[0]!;
    expect(Number.isSafeInteger(last)).toBe(true);
    expect(() => createIdGenerator(0, () => Date.UTC(2200, 0, 1)).next(1)).toThrow(RangeError);
    expect(() => createIdGenerator(0, () => Date.UTC(2020, 0, 1)).next(1)).toThrow(RangeError);
    for (const bad of [-1, 128, 1.5]) expect(() => createIdGenerator(bad)).toThrow(TypeError);
  });

  it('share one generator per process', () => {
    const a = processIdGenerator();
    expect(processIdGenerator()).toBe(a);
    expect(processIdGenerator(a.node)).toBe(a);
    const other = processIdGenerator((a.node + 1) % 128);
    expect(other).not.toBe(a);
    expect(other.node).toBe((a.node + 1) % 128);
  });
});
