import { z } from 'zod';
import { defineEventType } from '../schema/event-type.js';
import { definePreset } from '../schema/preset.js';

/**
 * Type of the event recorded when someone opens a view of the log (the native API's `whoami`,
 * which the viewer page calls once per opening).
 *
 * @example
 * ```ts
 * import { EVENTLOG_VIEWED_TYPE } from '@eventlog/core';
 * const filter = { type: EVENTLOG_VIEWED_TYPE };
 * ```
 */
export const EVENTLOG_VIEWED_TYPE = 'eventlog.viewed';

/**
 * Type of the event recorded after each CSV export of the native API.
 *
 * @example
 * ```ts
 * import { EVENTLOG_EXPORTED_TYPE } from '@eventlog/core';
 * const filter = { type: EVENTLOG_EXPORTED_TYPE };
 * ```
 */
export const EVENTLOG_EXPORTED_TYPE = 'eventlog.exported';

const principalSchema = z.looseObject({
  role: z.enum(['admin', 'reseller', 'user']),
  id: z.string().nullish(),
  tenantId: z.string().nullish(),
  tenantIds: z.array(z.string()).nullish(),
});

/**
 * The `data` payload of an `eventlog.viewed` event: who looked, through which fixed filter, and
 * until when their credential is valid (epoch ms, or null for a credential without expiry).
 *
 * @example
 * ```ts
 * import { eventlogViewedDataSchema } from '@eventlog/core';
 * eventlogViewedDataSchema.parse({ principal: { role: 'admin' }, filter: null, expiresAt: null });
 * ```
 */
export const eventlogViewedDataSchema = z.looseObject({
  principal: principalSchema,
  filter: z.record(z.string(), z.unknown()).nullable(),
  expiresAt: z.number().int().nullable(),
});

/**
 * The `data` payload of an `eventlog.exported` event: who exported, the filter the export applied
 * (the credential's fixed filter and the request's own), and how many rows it wrote.
 *
 * @example
 * ```ts
 * import { eventlogExportedDataSchema } from '@eventlog/core';
 * eventlogExportedDataSchema.parse({ principal: { role: 'user', id: 'u1' }, fixedFilter: null, filter: { type: 'x' }, rows: 3 });
 * ```
 */
export const eventlogExportedDataSchema = z.looseObject({
  principal: principalSchema,
  fixedFilter: z.record(z.string(), z.unknown()).nullable(),
  filter: z.record(z.string(), z.unknown()),
  rows: z.number().int().min(0),
});

/**
 * eventlog's own audit events: `eventlog.viewed` (a view of the log was opened) and
 * `eventlog.exported` (a CSV export finished), both in the category `audit`. The native API
 * records them, so a log whose presets register event types must include this preset; a log that
 * accepts any type (no types registered) needs nothing.
 *
 * @example
 * ```ts
 * import { createEventLog, eventlogAuditPreset, httpRequestsPreset } from '@eventlog/core';
 * import { createSqliteStore } from '@eventlog/adapters/sqlite';
 * const log = createEventLog({ store: createSqliteStore(), presets: [httpRequestsPreset, eventlogAuditPreset] });
 * ```
 */
export const eventlogAuditPreset = definePreset({
  name: 'eventlogAudit',
  types: [
    defineEventType(EVENTLOG_VIEWED_TYPE, eventlogViewedDataSchema, {
      category: 'audit',
      description: 'Someone opened a view of the log.',
    }),
    defineEventType(EVENTLOG_EXPORTED_TYPE, eventlogExportedDataSchema, {
      category: 'audit',
      description: 'Someone exported events as CSV.',
    }),
  ],
  dimensions: [],
  metrics: [],
});
