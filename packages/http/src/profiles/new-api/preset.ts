import { defineEventType, definePreset } from '@eventlog/core';
import { z } from 'zod';

/**
 * The kinds of new-api log rows; each is recorded as the event type `newapi.<kind>`.
 *
 * @example
 * ```ts
 * import { NEW_API_KINDS } from '@eventlog/http/new-api';
 * NEW_API_KINDS.includes('consume'); // true
 * ```
 */
export const NEW_API_KINDS = ['topup', 'consume', 'manage', 'system', 'error', 'refund', 'login'] as const;

/** One of {@link NEW_API_KINDS}. */
export type NewApiKind = (typeof NEW_API_KINDS)[number];

/**
 * The product's own log type codes (1 top-up, 2 consume, 3 manage, 4 system, 5 error, 6 refund,
 * 7 login), which its clients use to label rows.
 *
 * @example
 * ```ts
 * import { NEW_API_TYPE_CODES } from '@eventlog/http/new-api';
 * NEW_API_TYPE_CODES[2]; // 'consume'
 * ```
 */
export const NEW_API_TYPE_CODES: Readonly<Record<number, NewApiKind>> = Object.freeze({
  1: 'topup',
  2: 'consume',
  3: 'manage',
  4: 'system',
  5: 'error',
  6: 'refund',
  7: 'login',
});

/**
 * The numbering printed in the new-api log document (4 = error, 5 = system), for hosts whose
 * clients follow the document rather than the product.
 *
 * @example
 * ```ts
 * import { newApi, NEW_API_DOC_TYPE_CODES, staticTokens } from '@eventlog/http/new-api';
 * const profile = newApi({ authenticate: staticTokens([]), typeCodes: NEW_API_DOC_TYPE_CODES });
 * ```
 */
export const NEW_API_DOC_TYPE_CODES: Readonly<Record<number, NewApiKind>> = Object.freeze({
  ...NEW_API_TYPE_CODES,
  4: 'error',
  5: 'system',
});

/** The `data` payload of new-api rows. @internal */
export const dataSchema = z
  .object({
    /** Whether the upstream call streamed. */
    is_stream: z.boolean().optional(),
    /** Extra facts (ratios, admin info), as an object or a JSON string. */
    other: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  })
  .optional();

/** Stored event type of each kind. @internal */
export const TYPE_NAME: Record<NewApiKind, `newapi.${NewApiKind}`> = {
  topup: 'newapi.topup',
  consume: 'newapi.consume',
  manage: 'newapi.manage',
  system: 'newapi.system',
  error: 'newapi.error',
  refund: 'newapi.refund',
  login: 'newapi.login',
};
/** Every new-api event type. @internal */
export const ALL_TYPES: string[] = Object.values(TYPE_NAME);
/** Kind of each stored event type. @internal */
export const KIND_OF_TYPE: ReadonlyMap<string, NewApiKind> = new Map(NEW_API_KINDS.map((kind) => [TYPE_NAME[kind], kind]));

/**
 * Event types, dimensions and metrics of new-api's log rows: `newapi.<kind>` types (category =
 * kind), dimensions `token_name`, `model_name`, `group`, `channel_id`, `channel_name`, `token_id`,
 * and metrics `quota`, `prompt_tokens`, `completion_tokens` (both counted in TPM) and `use_time`.
 *
 * @example
 * ```ts
 * import { createEventLog } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * import { newApiPreset } from '@eventlog/http/new-api';
 * const log = createEventLog({ store: createSqliteStore(), presets: [newApiPreset] });
 * ```
 */
export const newApiPreset = definePreset({
  name: 'newApi',
  types: [
    defineEventType('newapi.topup', dataSchema, { category: 'topup', description: 'Quota recharged (type 1).' }),
    defineEventType('newapi.consume', dataSchema, { category: 'consume', description: 'A model call consumed quota (type 2).' }),
    defineEventType('newapi.manage', dataSchema, { category: 'manage', description: 'An administrator changed something (type 3).' }),
    defineEventType('newapi.system', dataSchema, { category: 'system', description: 'A system event (type 4).' }),
    defineEventType('newapi.error', dataSchema, { category: 'error', severity: 'error', description: 'A failed call (type 5).' }),
    defineEventType('newapi.refund', dataSchema, { category: 'refund', description: 'Quota refunded (type 6).' }),
    defineEventType('newapi.login', dataSchema, { category: 'login', description: 'A user signed in (type 7).' }),
  ],
  dimensions: [
    { name: 'token_name', indexed: true, rollup: true },
    { name: 'model_name', indexed: true, rollup: true },
    { name: 'group', rollup: true },
    { name: 'channel_id', type: 'integer', indexed: true, rollup: true },
    { name: 'channel_name' },
    { name: 'token_id', type: 'integer', indexed: true },
  ],
  metrics: [{ name: 'quota' }, { name: 'prompt_tokens', tokens: true }, { name: 'completion_tokens', tokens: true }, { name: 'use_time' }],
});
