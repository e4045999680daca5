import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../errors.js';
import type { EventRow, StoredRow } from '../storage/contract.js';
import { createFastEnvelope, type Envelope } from './envelope.js';
import { EVENT_TYPE_NAME } from './event-type.js';
import { STRING_FIELDS } from './fields.js';
import { issuesOf, safeParseWorded, showValue } from './messages.js';
import {
  checkShape,
  DEFAULT_MAX_DATA_BYTES,
  DEFAULT_MAX_DATA_DEPTH,
  isIssue,
  MAX_DATA_DEPTH_LIMIT,
  type PayloadLimits,
  toPayload,
  toWellFormed,
} from './payload.js';
import { dimensionValueSchema, type Registry } from './registry.js';
import { normalizeTenantId } from './tenant.js';

/** Who did something. */
export interface ActorInput {
  id?: string | number | null;
  type?: string | null;
  name?: string | null;
}

/** The primary subject of an event. */
export interface TargetInput {
  type?: string | null;
  id?: string | number | null;
  name?: string | null;
}

/** An event as a host records it. Only `type` is required. */
export interface EventInput<Type extends string = string, Data = unknown> {
  type: Type;
  /**
   * When it happened: epoch milliseconds, a Date, or an ISO 8601 string (a date, or a date and time
   * with `Z` or an offset). @default now
   */
  time?: number | Date | string;
  category?: string | null;
  action?: string | null;
  outcome?: string | null;
  severity?: string | null;
  message?: string | null;
  actor?: ActorInput | null;
  target?: TargetInput | null;
  tenantId?: string | number | null;
  ip?: string | null;
  userAgent?: string | null;
  sessionId?: string | null;
  durationMs?: number | null;
  /** Values of declared dimensions. */
  dimensions?: Record<string, string | number | null | undefined>;
  /** Values of declared metrics. */
  metrics?: Record<string, number | null | undefined>;
  /**
   * Payload validated by the event type's schema, stored as JSON: at most `limits.maxDataDepth`
   * levels of nesting and `limits.maxDataBytes` bytes; no BigInt or circular values; lone UTF-16
   * surrogates in its strings and keys are replaced with U+FFFD.
   */
  data?: Data;
}

/** Limits on the `data` payload of recorded events (part of the log's `limits` option). */
export interface PayloadLimitOptions {
  /**
   * Deepest nesting of objects and arrays in `data`; at most 30, because MariaDB and MySQL reject
   * JSON nested 32 levels deep and sessions store `data` one level down.
   * @default 20
   */
  maxDataDepth?: number;
  /** Largest `data`, in bytes of its UTF-8 JSON. @default 65536 */
  maxDataBytes?: number;
}

/** Who did something, as stored. */
export interface Actor {
  id: string | null;
  type: string | null;
  name: string | null;
}

/** The subject of an event, as stored. */
export interface Target {
  type: string | null;
  id: string | null;
  name: string | null;
}

/** An event as read back from the store. */
export interface StoredEvent<Type extends string = string, Data = unknown> {
  /** Store-assigned, increasing; 0 when the store does not return ids on insert. */
  id: number;
  /** Epoch milliseconds. */
  time: number;
  type: Type;
  category: string | null;
  action: string | null;
  outcome: string | null;
  severity: string | null;
  message: string | null;
  actor: Actor;
  target: Target;
  tenantId: string | null;
  ip: string | null;
  userAgent: string | null;
  sessionId: string | null;
  durationMs: number | null;
  dimensions: Record<string, string | number | null>;
  metrics: Record<string, number | null>;
  data: Data;
}

const MAX_TIME = Date.UTC(9999, 11, 31);
const MAX_MESSAGE = 64 * 1024;

/** A date, or a date and a time with `Z` or an offset: never a local time that depends on the host's zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?))?$/i;

/** Epoch milliseconds of an ISO 8601 time as {@link ISO_TIME} accepts it, or NaN. @internal */
export function parseIsoTime(text: string): number {
  return ISO_TIME.test(text) ? Date.parse(text) : Number.NaN;
}

const TIME_EXPECTED = 'expected epoch milliseconds, a Date or an ISO 8601 string';
const timeMessage = (input: unknown) => `${TIME_EXPECTED}, received ${showValue(input)}`;

const optionalText = (max: number) => z.union([z.string().max(max), z.number().transform(String)]).nullish();

/** A validated event: its row, and its `data` as the type's schema returned it. @internal */
export interface NormalizedEvent {
  row: EventRow;
  data: unknown;
}

/** Options of {@link createEventNormalizer}. @internal */
export interface NormalizerOptions extends PayloadLimitOptions {
  /** `false` checks every envelope with zod only (the tests compare both paths). */
  fastEnvelope?: boolean;
}

function payloadLimits(options: PayloadLimitOptions): PayloadLimits {
  const maxDepth = options.maxDataDepth ?? DEFAULT_MAX_DATA_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_DATA_DEPTH_LIMIT) {
    throw new TypeError(`limits.maxDataDepth must be a whole number from 1 to ${MAX_DATA_DEPTH_LIMIT}.`);
  }
  const maxBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
  if (!Number.isInteger(maxBytes) || maxBytes < 2) throw new TypeError('limits.maxDataBytes must be a whole number of at least 2.');
  return { maxDepth, maxBytes };
}

/** Text as stored: lone surrogates replaced, so every engine keeps the same characters. */
function text<T>(value: T): T {
  return (typeof value === 'string' ? toWellFormed(value) : value) as T;
}

/**
 * Builds the function that validates and converts events to rows.
 * @internal
 */
export function createEventNormalizer(registry: Registry, clock: () => number, options: NormalizerOptions = {}) {
  const limits = payloadLimits(options);
  // `type` has its own, stricter schema below.
  const stringFieldSchemas = Object.fromEntries(
    STRING_FIELDS.filter((f) => f.field !== 'type').map((f) => [f.field, optionalText(f.maxLength)]),
  );
  const lengths = Object.fromEntries(STRING_FIELDS.map((f) => [f.field, f.maxLength]));
  const dimensionShape = Object.fromEntries([...registry.dimensions.values()].map((d) => [d.name, dimensionValueSchema(d).optional()]));
  const metricShape = Object.fromEntries(
    [...registry.metrics.values()].map((m) => [
      m.name,
      (m.type === 'integer'
        ? z.number().int({ error: (iss) => `expected an integer, received ${showValue(iss.input)}` })
        : z.number()
      ).nullish(),
    ]),
  );
  const baseSchema = z.strictObject({
    type: z.string().regex(EVENT_TYPE_NAME, {
      error: (iss) =>
        `expected an event type name (a letter, then letters, digits, "_", ".", ":" or "-", at most 128 characters), received ${showValue(iss.input)}`,
    }),
    time: z
      .union(
        [
          z.number(),
          z.date().transform((d) => d.getTime()),
          z
            .string()
            .refine((t) => !Number.isNaN(parseIsoTime(t)), { error: (iss) => timeMessage(iss.input), abort: true })
            .transform(parseIsoTime),
        ],
        { error: (iss) => (iss.code === 'invalid_union' ? timeMessage(iss.input) : undefined) },
      )
      .refine((t) => t >= 0 && t <= MAX_TIME, { error: (iss) => `expected a time between 1970 and 9999, received ${showValue(iss.input)}` })
      .optional(),
    ...stringFieldSchemas,
    message: z.string().max(MAX_MESSAGE).nullish(),
    actor: z
      .strictObject({ id: optionalText(lengths.actorId!), type: optionalText(lengths.actorType!), name: optionalText(lengths.actorName!) })
      .nullish(),
    target: z
      .strictObject({
        type: optionalText(lengths.targetType!),
        id: optionalText(lengths.targetId!),
        name: optionalText(lengths.targetName!),
      })
      .nullish(),
    durationMs: z.number().min(0).nullish(),
    dimensions: z.strictObject(dimensionShape).optional(),
    metrics: z.strictObject(metricShape).optional(),
    data: z.unknown().optional(),
  });
  // Flattened actor/target keys are accepted by STRING_FIELDS too; the nested form wins when both are given.
  const dimensionNames = [...registry.dimensions.keys()];
  const metricNames = [...registry.metrics.keys()];
  const typeNames = [...registry.types.keys()];

  const fast =
    options.fastEnvelope === false
      ? () => undefined
      : createFastEnvelope({
          registry,
          stringFields: STRING_FIELDS,
          typePattern: EVENT_TYPE_NAME,
          maxTime: MAX_TIME,
          maxMessage: MAX_MESSAGE,
        });

  function fail(issues: ValidationIssue[], index: number | undefined): never {
    throw new ValidationError(issues, { eventIndex: index });
  }

  /** A row with every column null: one object shape for every event, which the fast check fills. */
  function emptyRow(): EventRow {
    const row: EventRow = {
      time: Number.NaN,
      type: '',
      category: null,
      action: null,
      outcome: null,
      severity: null,
      actor_id: null,
      actor_type: null,
      actor_name: null,
      target_type: null,
      target_id: null,
      target_name: null,
      tenant_id: null,
      ip: null,
      user_agent: null,
      session_id: null,
      message: null,
      duration_ms: null,
      // Until the payload's JSON text replaces it: the input's `data`, undefined when it has none.
      data: undefined as unknown as null,
    };
    for (const name of dimensionNames) row[name] = null;
    for (const name of metricNames) row[name] = null;
    return row;
  }

  /** Fills `row` from an envelope zod accepted, as the fast check would (defaults not applied). */
  function fillFromEnvelope(event: Envelope, row: EventRow): void {
    row.time = event.time ?? Number.NaN;
    row.type = event.type;
    row.category = text((event.category as string | null | undefined) ?? null);
    row.action = text((event.action as string | null | undefined) ?? null);
    row.outcome = text((event.outcome as string | null | undefined) ?? null);
    row.severity = text((event.severity as string | null | undefined) ?? null);
    row.actor_id = text(event.actor?.id ?? (event.actorId as string | null | undefined) ?? null);
    row.actor_type = text(event.actor?.type ?? (event.actorType as string | null | undefined) ?? null);
    row.actor_name = text(event.actor?.name ?? (event.actorName as string | null | undefined) ?? null);
    row.target_type = text(event.target?.type ?? (event.targetType as string | null | undefined) ?? null);
    row.target_id = text(event.target?.id ?? (event.targetId as string | null | undefined) ?? null);
    row.target_name = text(event.target?.name ?? (event.targetName as string | null | undefined) ?? null);
    row.tenant_id = text((event.tenantId as string | null | undefined) ?? null);
    row.ip = text((event.ip as string | null | undefined) ?? null);
    row.user_agent = text((event.userAgent as string | null | undefined) ?? null);
    row.session_id = text((event.sessionId as string | null | undefined) ?? null);
    row.message = text((event.message as string | null | undefined) ?? null);
    row.duration_ms = (event.durationMs as number | null | undefined) ?? null;
    // Own keys only: a dimension may be named like an Object.prototype member ("constructor").
    const dimensions = event.dimensions;
    const metrics = event.metrics;
    for (const name of dimensionNames) {
      row[name] =
        dimensions && Object.hasOwn(dimensions, name) ? text((dimensions[name] as string | number | null | undefined) ?? null) : null;
    }
    for (const name of metricNames) {
      row[name] = metrics && Object.hasOwn(metrics, name) ? ((metrics[name] as number | null | undefined) ?? null) : null;
    }
  }

  return function normalize(input: unknown, index?: number): NormalizedEvent {
    const row = emptyRow();
    let data: unknown;
    if (fast(input, row) !== undefined) {
      data = row.data;
    } else {
      const parsed = safeParseWorded(baseSchema, input);
      if (!parsed.success) fail(issuesOf(parsed.error, pathOf(index)), index);
      const event = parsed.data as Envelope;
      fillFromEnvelope(event, row);
      data = event.data;
    }
    if (typeof row.tenant_id === 'string') row.tenant_id = normalizeTenantId(row.tenant_id);
    const typeName = row.type as string;
    const type = registry.types.get(typeName);
    if (!type && !registry.allowUnknownTypes) {
      const known = typeNames.length > 8 ? `${typeNames.slice(0, 8).join(', ')}, …` : typeNames.join(', ');
      fail(
        [{ path: pathOf(index, 'type'), message: `expected a registered event type (${known}), received ${showValue(typeName)}` }],
        index,
      );
    }
    // Issues name their path in the message too (a circular reference's target), so the checks get
    // the real one; a batch's is built per event, a single event's is shared.
    const dataPath = index === undefined ? DATA_PATH : pathOf(index, 'data');
    if (type) {
      // A recursive schema would overflow the stack on hostile nesting: bound the shape first.
      const shapeIssue = checkShape(data, limits.maxDepth, dataPath);
      if (shapeIssue) fail([shapeIssue], index);
      const result = safeParseWorded(type.schema, data);
      if (!result.success) fail(issuesOf(result.error, dataPath), index);
      data = result.data;
    }
    const payload = toPayload(data, limits, dataPath);
    if (isIssue(payload)) return fail([payload], index);
    // Defaults as `??` gives them: a null category or severity takes the type's.
    const time = row.time as number;
    row.time = Math.round(Number.isNaN(time) ? clock() : time);
    if (row.category === null) row.category = text(type?.category ?? null);
    if (row.severity === null) row.severity = text(type?.severity ?? 'info');
    row.data = payload.json;
    return { row, data: payload.value };
  };
}

const DATA_PATH: readonly (string | number)[] = Object.freeze(['data']);

/** The path of an event's field: under `events[index]` in a batch. Built only for an issue. */
function pathOf(index: number | undefined, field?: string): (string | number)[] {
  const path: (string | number)[] = index === undefined ? [] : ['events', index];
  if (field !== undefined) path.push(field);
  return path;
}

/**
 * Converts a stored row back to an event. `parseData: false` leaves `data` undefined (for callers
 * that already hold the parsed payload).
 * @internal
 */
export function rowToEvent(row: StoredRow, registry: Registry, parseData = true): StoredEvent {
  const dimensions: Record<string, string | number | null> = {};
  for (const d of registry.dimensions.values()) {
    const value = row[d.name];
    dimensions[d.name] = value === null || value === undefined ? null : d.type === 'integer' ? Number(value) : String(value);
  }
  const metrics: Record<string, number | null> = {};
  for (const m of registry.metrics.keys()) metrics[m] = toNumberOrNull(row[m]);
  // Stores return `data` as JSON text (see StoredRow): SQL NULL means no payload, the text `null` a null one.
  const raw = parseData ? row.data : undefined;
  const data = raw === null || raw === undefined ? undefined : typeof raw === 'string' ? JSON.parse(raw) : raw;
  return {
    id: Number(row.id ?? 0),
    time: Number(row.time),
    type: String(row.type),
    category: str(row.category),
    action: str(row.action),
    outcome: str(row.outcome),
    severity: str(row.severity),
    message: str(row.message),
    actor: { id: str(row.actor_id), type: str(row.actor_type), name: str(row.actor_name) },
    target: { type: str(row.target_type), id: str(row.target_id), name: str(row.target_name) },
    tenantId: str(row.tenant_id),
    ip: str(row.ip),
    userAgent: str(row.user_agent),
    sessionId: str(row.session_id),
    durationMs: toNumberOrNull(row.duration_ms),
    dimensions,
    metrics,
    data,
  };
}

function str(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
