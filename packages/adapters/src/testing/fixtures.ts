import { defineEventType, definePreset } from '@eventlog/core';
import { z } from 'zod';

/** The fixed "now" of the conformance suite: noon UTC on the day Europe switches to summer time. */
export const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Event types covering the shapes of the five products. */
export const consumption = defineEventType(
  'llm.consumption',
  z.object({ other: z.record(z.string(), z.unknown()).optional() }).optional(),
  { category: 'consumption' },
);
export const login = defineEventType('auth.login', z.object({ reason: z.string().optional() }).optional(), { category: 'login' });
export const streamState = defineEventType('stream.state', z.object({ bitrate: z.string(), resolution: z.string() }), {
  category: 'stream',
});
export const connectionOpen = defineEventType('connection.open', z.unknown(), { category: 'connection' });
export const connectionClose = defineEventType('connection.close', z.unknown(), { category: 'connection' });

/** The preset every conformance log uses. */
export const conformancePreset = definePreset({
  name: 'conformance',
  types: [consumption, login, streamState, connectionOpen, connectionClose],
  dimensions: [
    { name: 'model_name', indexed: true, rollup: true },
    { name: 'token_name' },
    { name: 'channel', type: 'integer', rollup: true },
  ],
  metrics: [
    { name: 'quota' },
    { name: 'prompt_tokens', tokens: true },
    { name: 'completion_tokens', tokens: true },
    { name: 'amount', type: 'float' },
  ],
});

/** A small deterministic pseudo-random generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
