import { z } from 'zod';
import type { ValidationIssue } from '../errors.js';
import type { IndexSpec, StoreColumn, StoreSchema } from '../storage/contract.js';
import type { EventType } from './event-type.js';
import {
  CANONICAL_FIELDS,
  COLUMN_NAME_PATTERN,
  DIMENSION_MAX_LENGTH,
  RESERVED_COLUMNS,
  ROLLUP_FIELDS,
  type RollupField,
} from './fields.js';
import type { DimensionSpec, DimensionType, MetricSpec, MetricType, Preset } from './preset.js';

/** A dimension with its defaults filled in. */
export interface ResolvedDimension {
  readonly name: string;
  readonly type: DimensionType;
  readonly indexed: boolean;
  /** Whether the dimension has a rollup table (see {@link DimensionSpec.rollup}). */
  readonly rollup: boolean;
}

/** A metric with its defaults filled in. */
export interface ResolvedMetric {
  readonly name: string;
  readonly type: MetricType;
  readonly tokens: boolean;
}

/** Everything the log knows about event shapes: types, dimensions, metrics, and the store schema they imply. */
export interface Registry {
  readonly types: ReadonlyMap<string, EventType>;
  readonly dimensions: ReadonlyMap<string, ResolvedDimension>;
  readonly metrics: ReadonlyMap<string, ResolvedMetric>;
  /** Envelope fields with a rollup table of their own (presets' and the options' `rollupFields`), by column. */
  readonly rollupFields: ReadonlySet<string>;
  readonly allowUnknownTypes: boolean;
  readonly storeSchema: StoreSchema;
}

/** Inputs of {@link createRegistry}. */
export interface RegistryInput {
  presets?: readonly Preset[];
  types?: readonly EventType[];
  dimensions?: readonly DimensionSpec[];
  metrics?: readonly MetricSpec[];
  /** Envelope fields to roll up, besides the presets' (see {@link Preset.rollupFields}). */
  rollupFields?: readonly RollupField[];
  allowUnknownTypes?: boolean;
}

/** Version of the table layout the core asks stores for. */
export const SCHEMA_VERSION = 4;

/** Index definitions every store creates; scope column first, then time and id (see CONVENTIONS). */
const BASE_INDEXES: readonly IndexSpec[] = [
  { name: 'time', columns: ['time', 'id'] },
  { name: 'tenant_time', columns: ['tenant_id', 'time', 'id'] },
  { name: 'type_time', columns: ['type', 'time', 'id'] },
  { name: 'category_time', columns: ['category', 'time', 'id'] },
  { name: 'actor_time', columns: ['actor_id', 'time', 'id'] },
  { name: 'target_time', columns: ['target_id', 'target_type', 'time', 'id'] },
  { name: 'session', columns: ['session_id'] },
];

/**
 * Merges presets and loose declarations into one registry, rejecting conflicts.
 * @internal
 */
export function createRegistry(input: RegistryInput): Registry {
  const types = new Map<string, EventType>();
  const dimensions = new Map<string, ResolvedDimension>();
  const metrics = new Map<string, ResolvedMetric>();
  const rollupFields = new Set<string>();
  const sources: Preset[] = [
    ...(input.presets ?? []),
    {
      name: 'options',
      types: input.types ?? [],
      dimensions: input.dimensions ?? [],
      metrics: input.metrics ?? [],
      rollupFields: input.rollupFields ?? [],
    },
  ];
  for (const source of sources) {
    for (const field of source.rollupFields ?? []) {
      if (!(ROLLUP_FIELDS as readonly string[]).includes(field)) {
        throw new TypeError(
          `rollupFields (in "${source.name}") names "${String(field)}"; only ${ROLLUP_FIELDS.join(', ')} can be rolled up.`,
        );
      }
      rollupFields.add(field);
    }
    for (const type of source.types) {
      const existing = types.get(type.name);
      if (existing && existing !== type) {
        throw new TypeError(`Event type "${type.name}" is defined twice (again in "${source.name}").`);
      }
      types.set(type.name, type);
    }
    for (const spec of source.dimensions) {
      const resolved: ResolvedDimension = {
        name: spec.name,
        type: spec.type ?? 'string',
        indexed: spec.indexed ?? false,
        rollup: spec.rollup ?? false,
      };
      checkColumnName(spec.name, 'Dimension', source.name);
      const existing = dimensions.get(spec.name);
      if (existing && existing.type !== resolved.type) {
        throw new TypeError(`Dimension "${spec.name}" is declared as ${existing.type} and as ${resolved.type}.`);
      }
      if (metrics.has(spec.name)) throw new TypeError(`"${spec.name}" is declared both as a dimension and a metric.`);
      dimensions.set(spec.name, {
        ...resolved,
        indexed: resolved.indexed || (existing?.indexed ?? false),
        rollup: resolved.rollup || (existing?.rollup ?? false),
      });
    }
    for (const spec of source.metrics) {
      const resolved: ResolvedMetric = { name: spec.name, type: spec.type ?? 'integer', tokens: spec.tokens ?? false };
      checkColumnName(spec.name, 'Metric', source.name);
      const existing = metrics.get(spec.name);
      if (existing && existing.type !== resolved.type) {
        throw new TypeError(`Metric "${spec.name}" is declared as ${existing.type} and as ${resolved.type}.`);
      }
      if (dimensions.has(spec.name)) throw new TypeError(`"${spec.name}" is declared both as a dimension and a metric.`);
      metrics.set(spec.name, { ...resolved, tokens: resolved.tokens || (existing?.tokens ?? false) });
    }
  }
  return {
    types,
    dimensions,
    metrics,
    rollupFields,
    allowUnknownTypes: input.allowUnknownTypes ?? types.size === 0,
    storeSchema: buildStoreSchema(dimensions, metrics, rollupFields),
  };
}

function checkColumnName(name: string, kind: string, source: string): void {
  if (!COLUMN_NAME_PATTERN.test(name)) {
    throw new TypeError(`${kind} name "${name}" (in "${source}") must match ${COLUMN_NAME_PATTERN}.`);
  }
  if (RESERVED_COLUMNS.has(name)) {
    throw new TypeError(`${kind} name "${name}" (in "${source}") is a canonical field; choose another name.`);
  }
}

function buildStoreSchema(
  dimensions: ReadonlyMap<string, ResolvedDimension>,
  metrics: ReadonlyMap<string, ResolvedMetric>,
  rollupFields: ReadonlySet<string>,
): StoreSchema {
  const columns: StoreColumn[] = CANONICAL_FIELDS.map((f) => ({
    name: f.column,
    type: f.type,
    maxLength: f.maxLength,
    nullable: f.column !== 'id' && f.column !== 'time' && f.column !== 'type',
    kind: 'canonical' as const,
  }));
  for (const d of dimensions.values()) {
    columns.push({
      name: d.name,
      type: d.type === 'string' ? 'string' : 'integer',
      maxLength: d.type === 'string' ? DIMENSION_MAX_LENGTH : undefined,
      nullable: true,
      kind: 'dimension',
    });
  }
  for (const m of metrics.values()) {
    columns.push({ name: m.name, type: m.type, maxLength: undefined, nullable: true, kind: 'metric' });
  }
  const indexes = [...BASE_INDEXES];
  for (const d of dimensions.values()) {
    if (d.indexed) indexes.push({ name: `dim_${d.name}`, columns: [d.name, 'time', 'id'] });
  }
  // Marked envelope fields get a table like a marked dimension's; their columns (the field's own
  // name) never clash with a dimension's, which may not take a canonical column's name.
  const rollups = {
    dimensions: [
      ...[...dimensions.values()].filter((d) => d.rollup).map((d) => d.name),
      ...ROLLUP_FIELDS.filter((f) => rollupFields.has(f)),
    ],
    metrics: [...metrics.keys()],
  };
  return { version: SCHEMA_VERSION, columns, indexes, rollups };
}

/** Converts zod issues to {@link ValidationIssue}s under a path prefix. @internal */
export function toIssues(error: z.ZodError, prefix: (string | number)[] = []): ValidationIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))],
    message: issue.message,
  }));
}

/** The zod schema of a dimension value. @internal */
export function dimensionValueSchema(d: ResolvedDimension): z.ZodType<string | number | null> {
  return d.type === 'string'
    ? z.union([z.string().max(DIMENSION_MAX_LENGTH), z.number().transform(String)]).nullable()
    : z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).nullable();
}
