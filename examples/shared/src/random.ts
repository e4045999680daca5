/** A small seeded pseudo-random generator, so every seeding run produces the same data. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
}

/** mulberry32: 32 bits of state, fast, and good enough for demo data. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

/**
 * `size` times drawn with `draw`, yielded oldest first. Bulk seeds write their rows in time order,
 * as a live system does: rows in random time order land all over the time-ordered indexes, and
 * once those outgrow the cache every insert pays for it (seeding millions of events slowed to a
 * fraction of what `recordMany` does with ordered rows).
 */
export function* ascendingTimes(size: number, draw: () => number): Generator<number> {
  const times = new Float64Array(size);
  for (let i = 0; i < size; i++) times[i] = draw();
  times.sort();
  yield* times;
}
