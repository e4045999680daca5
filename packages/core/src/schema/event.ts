import { z } from 'zod';
import { ValidationError } from '../errors.js';
import type { EventRow, StoredRow } from '../storage/contract.js';
import { createFastEnvelope, type Envelope } from './envelope.js';
import { EVENT_TYPE_NAME } from './event-type.js';
import { STRING_FIELDS } from './fields.js';
import { dimensionValueSchema, type Registry, toIssues } from './registry.js';

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
  /** When it happened (epoch ms or a Date). @default now */
  time?: number | Date;
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
  /** Payload validated by the event type's schema. */
  data?: Data;
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

const optionalText = (max: number) =>
  z.union([z.string().max(max, `must be at most ${max} characters`), z.number().transform(String)]).nullish();

/** A validated event: its row, and its `data` as the type's schema returned it. @internal */
export interface NormalizedEvent {
  row: EventRow;
  data: unknown;
}

/**
 * Builds the function that validates and converts events to rows. `fastEnvelope: false` checks
 * every envelope with zod only (the tests compare both paths).
 * @internal
 */
export function createEventNormalizer(registry: Registry, clock: () => number, options: { fastEnvelope?: boolean } = {}) {
  // `type` has its own, stricter schema below.
  const stringFieldSchemas = Object.fromEntries(
    STRING_FIELDS.filter((f) => f.field !== 'type').map((f) => [f.field, optionalText(f.maxLength)]),
  );
  const limits = Object.fromEntries(STRING_FIELDS.map((f) => [f.field, f.maxLength]));
  const dimensionShape = Object.fromEntries([...registry.dimensions.values()].map((d) => [d.name, dimensionValueSchema(d).optional()]));
  const metricShape = Object.fromEntries(
    [...registry.metrics.values()].map((m) => [
      m.name,
      (m.type === 'integer' ? z.number().int('must be an integer') : z.number()).refine(Number.isFinite, 'must be finite').nullish(),
    ]),
  );
  const baseSchema = z.strictObject({
    type: z
      .string('is required')
      .regex(EVENT_TYPE_NAME, 'must start with a letter and use only letters, digits, "_", ".", ":" or "-" (at most 128)'),
    time: z
      .union([z.number(), z.date().transform((d) => d.getTime())])
      .refine((t) => Number.isFinite(t) && t >= 0 && t <= MAX_TIME, 'must be a time between 1970 and 9999')
      .optional(),
    ...stringFieldSchemas,
    message: z.string().max(MAX_MESSAGE, `must be at most ${MAX_MESSAGE} characters`).nullish(),
    actor: z
      .strictObject({ id: optionalText(limits.actorId!), type: optionalText(limits.actorType!), name: optionalText(limits.actorName!) })
      .nullish(),
    target: z
      .strictObject({ type: optionalText(limits.targetType!), id: optionalText(limits.targetId!), name: optionalText(limits.targetName!) })
      .nullish(),
    durationMs: z.number().refine(Number.isFinite, 'must be finite').min(0).nullish(),
    dimensions: z.strictObject(dimensionShape).optional(),
    metrics: z.strictObject(metricShape).optional(),
    data: z.unknown().optional(),
  });
  // Flattened actor/target keys are accepted by STRING_FIELDS too; the nested form wins when both are given.
  const dimensionNames = [...registry.dimensions.keys()];
  const metricNames = [...registry.metrics.keys()];

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

  return function normalize(input: unknown, index?: number): NormalizedEvent {
    const prefix = index === undefined ? [] : ['events', index];
    let event = fast(input);
    if (event === undefined) {
      const parsed = baseSchema.safeParse(input);
      if (!parsed.success) throw new ValidationError(toIssues(parsed.error, prefix), { eventIndex: index });
      event = parsed.data as Envelope;
    }
    const type = registry.types.get(event.type);
    if (!type && !registry.allowUnknownTypes) {
      throw new ValidationError([{ path: [...prefix, 'type'], message: `"${event.type}" is not a registered event type` }], {
        eventIndex: index,
      });
    }
    let data: unknown = event.data;
    if (type) {
      const result = type.schema.safeParse(event.data);
      if (!result.success) throw new ValidationError(toIssues(result.error, [...prefix, 'data']), { eventIndex: index });
      data = result.data;
    }
    const row: EventRow = {
      time: Math.round(event.time ?? clock()),
      type: event.type,
      category: (event.category as string | null | undefined) ?? type?.category ?? null,
      action: (event.action as string | null | undefined) ?? null,
      outcome: (event.outcome as string | null | undefined) ?? null,
      severity: (event.severity as string | null | undefined) ?? type?.severity ?? 'info',
      actor_id: event.actor?.id ?? (event.actorId as string | null | undefined) ?? null,
      actor_type: event.actor?.type ?? (event.actorType as string | null | undefined) ?? null,
      actor_name: event.actor?.name ?? (event.actorName as string | null | undefined) ?? null,
      target_type: event.target?.type ?? (event.targetType as string | null | undefined) ?? null,
      target_id: event.target?.id ?? (event.targetId as string | null | undefined) ?? null,
      target_name: event.target?.name ?? (event.targetName as string | null | undefined) ?? null,
      tenant_id: (event.tenantId as string | null | undefined) ?? null,
      ip: (event.ip as string | null | undefined) ?? null,
      user_agent: (event.userAgent as string | null | undefined) ?? null,
      session_id: (event.sessionId as string | null | undefined) ?? null,
      message: (event.message as string | null | undefined) ?? null,
      duration_ms: (event.durationMs as number | null | undefined) ?? null,
      data: data === undefined ? null : JSON.stringify(data),
    };
    for (const name of dimensionNames) row[name] = (event.dimensions?.[name] as string | number | null | undefined) ?? null;
    for (const name of metricNames) row[name] = (event.metrics?.[name] as number | null | undefined) ?? null;
    return { row, data };
  };
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
