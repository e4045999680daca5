import { defineEventType, definePreset, type Preset } from '@eventlog/core';
import { z } from 'zod';

// The event shapes the benchmark writes: an LLM gateway (new-api), an IPTV panel (XUI) and a
// forward proxy. They are fixtures of the benchmark, declared the way a host would declare them.

const llmConsumption = defineEventType(
  'llm.consumption',
  z.object({
    isStream: z.boolean(),
    requestId: z.string().max(64),
    other: z.record(z.string(), z.number()).optional(),
  }),
  { category: 'consumption' },
);
const llmError = defineEventType(
  'llm.error',
  z.object({ requestId: z.string().max(64), statusCode: z.number().int(), upstream: z.string() }),
  { category: 'error', severity: 'error' },
);
const llmTopup = defineEventType('llm.topup', z.object({ method: z.enum(['card', 'redeem', 'admin']) }), { category: 'topup' });

const xuiActivity = defineEventType('xui.activity', z.object({ details: z.string().optional() }), { category: 'activity' });
const xuiConnect = defineEventType(
  'xui.client.connect',
  z.object({ container: z.enum(['ts', 'm3u8', 'rtmp']), country: z.string().length(2) }),
  { category: 'client' },
);
const xuiDisconnect = defineEventType('xui.client.disconnect', z.object({ reason: z.string() }), { category: 'client' });
const xuiCredit = defineEventType('xui.credit', z.object({ reason: z.string(), balanceAfter: z.number() }), { category: 'credit' });

const proxyRequest = defineEventType('proxy.request', z.object({ path: z.string().max(2048), scheme: z.enum(['http', 'https']) }), {
  category: 'access',
});

/** new-api: per-request LLM consumption with quota and token counts. */
export const newApiPreset = definePreset({
  name: 'bench-new-api',
  types: [llmConsumption, llmError, llmTopup],
  dimensions: [
    { name: 'token_name', rollup: true },
    { name: 'model_name', indexed: true, rollup: true },
    { name: 'channel', type: 'integer', rollup: true },
    { name: 'group', rollup: true },
  ],
  metrics: [{ name: 'quota' }, { name: 'prompt_tokens', tokens: true }, { name: 'completion_tokens', tokens: true }, { name: 'use_time' }],
});

/** XUI.ONE: panel activity, client connections and reseller credits. */
export const xuiPreset = definePreset({
  name: 'bench-xui',
  types: [xuiActivity, xuiConnect, xuiDisconnect, xuiCredit],
  metrics: [{ name: 'credits', type: 'float' }, { name: 'bytes' }],
});

/** A forward proxy's access log. */
export const proxyPreset = definePreset({
  name: 'bench-proxy',
  types: [proxyRequest],
  dimensions: [
    { name: 'method', rollup: true },
    { name: 'destination', rollup: true },
    { name: 'status', type: 'integer', rollup: true },
  ],
  metrics: [{ name: 'bytes' }],
  // As the core's HTTP-requests preset: the client address is rolled up (for every event type
  // of the log that has one, since the fields a registry rolls up hold for all its types).
  rollupFields: ['ip'],
});

/** Every preset the benchmark registers (widened so `record()` takes any generated event). */
export const BENCH_PRESETS: readonly Preset[] = [newApiPreset, xuiPreset, proxyPreset];
