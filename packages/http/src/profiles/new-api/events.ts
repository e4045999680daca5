import type { EventInput } from '@eventlog/core';
import type { z } from 'zod';
import { type dataSchema, type NewApiKind, TYPE_NAME } from './preset.js';

/** A log row in new-api's own words, as a host records it. */
export interface NewApiLogInput {
  /** Log kind. */
  kind: NewApiKind;
  /** Owner of the row; also the tenant `self` endpoints are scoped to. */
  user_id: number | string;
  username?: string;
  /** Unix seconds. @default now */
  created_at?: number;
  content?: string;
  token_name?: string;
  token_id?: number;
  model_name?: string;
  quota?: number;
  prompt_tokens?: number;
  completion_tokens?: number;
  /** Seconds the call took. */
  use_time?: number;
  is_stream?: boolean;
  channel_id?: number;
  channel_name?: string;
  group?: string;
  ip?: string;
  /** Extra facts, as an object or a JSON string. */
  other?: string | Record<string, unknown>;
}

/**
 * Converts a new-api log row into an event for `log.record()`: `user_id` becomes the tenant and
 * actor, `username` the actor name, `content` the message, `created_at` the time.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { newApiEvent, newApiPreset } from '@eventlog/http/new-api';
 * const log = createEventLog({ store: createSqliteStore(), presets: [newApiPreset] });
 * await log.record(newApiEvent({ kind: 'consume', user_id: 1, model_name: 'gpt-4', quota: 1000, prompt_tokens: 50, completion_tokens: 100 }));
 * ```
 */
export function newApiEvent(row: NewApiLogInput): EventInput<`newapi.${NewApiKind}`, z.input<typeof dataSchema>> {
  const data: { is_stream?: boolean; other?: string | Record<string, unknown> } = {};
  if (row.is_stream !== undefined) data.is_stream = row.is_stream;
  if (row.other !== undefined) data.other = row.other;
  return {
    type: TYPE_NAME[row.kind],
    ...(row.created_at !== undefined ? { time: row.created_at * 1000 } : {}),
    message: row.content ?? null,
    tenantId: String(row.user_id),
    actor: { id: String(row.user_id), type: 'user', name: row.username ?? null },
    ip: row.ip ?? null,
    dimensions: {
      token_name: row.token_name ?? null,
      model_name: row.model_name ?? null,
      group: row.group ?? null,
      channel_id: row.channel_id ?? null,
      channel_name: row.channel_name ?? null,
      token_id: row.token_id ?? null,
    },
    metrics: {
      quota: row.quota ?? null,
      prompt_tokens: row.prompt_tokens ?? null,
      completion_tokens: row.completion_tokens ?? null,
      use_time: row.use_time ?? null,
    },
    ...(Object.keys(data).length ? { data } : {}),
  };
}
