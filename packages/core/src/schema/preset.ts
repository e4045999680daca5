import type { z } from 'zod';
import type { EventType } from './event-type.js';
import type { RollupField } from './fields.js';

/** The stored type of a dimension. */
export type DimensionType = 'string' | 'integer';

/** An extra indexed column a deployment declares, e.g. `model_name`. */
export interface DimensionSpec {
  /** Column name: lowercase letters, digits and `_`. */
  name: string;
  /** @default 'string' */
  type?: DimensionType;
  /** Whether to create a `(name, time, id)` index for filtering on it. @default false */
  indexed?: boolean;
  /**
   * Whether the store keeps pre-aggregated counts and sums per time bucket for each value of this
   * dimension (a rollup table of its own), so `stats`, `timeline`, `top` and `count` filtered or
   * grouped by it cost O(buckets) instead of O(rows). Each marked dimension adds writes to every
   * insert; mark the ones dashboards group or filter by. @default false
   */
  rollup?: boolean;
}

/** The stored type of a metric. */
export type MetricType = 'integer' | 'float';

/** A summable number a deployment declares, e.g. `quota` or `prompt_tokens`. */
export interface MetricSpec {
  /** Column name: lowercase letters, digits and `_`. */
  name: string;
  /** @default 'integer' */
  type?: MetricType;
  /** Whether this metric counts tokens, so that `tpm` sums it. @default false */
  tokens?: boolean;
}

/** Maps event type names to their payload schemas. */
export type EventTypeMap = Record<string, z.ZodType>;

/**
 * A bundle of event types, dimensions and metrics that one product needs. The type parameters
 * carry the payload schemas and the declared names so that a log built from presets types its
 * reads; `string` means "names not known to the compiler", which accepts any name.
 */
export interface Preset<Types extends EventTypeMap = EventTypeMap, Dimensions extends string = string, Metrics extends string = string> {
  readonly name: string;
  readonly types: readonly EventType[];
  readonly dimensions: readonly DimensionSpec[];
  readonly metrics: readonly MetricSpec[];
  /**
   * Envelope fields the store keeps a rollup table for, like a dimension marked `rollup: true`
   * (docs/rollups.md): `top`, `stats` and `count` grouped by or filtered on their values then
   * cost O(buckets). @default none
   */
  readonly rollupFields?: readonly RollupField[];
  /** @internal phantom field carrying the type map */
  readonly __types?: Types;
  /** @internal phantom field carrying the declared dimension names */
  readonly __dimensions?: Dimensions;
  /** @internal phantom field carrying the declared metric names */
  readonly __metrics?: Metrics;
}

/** Turns a tuple of event types into a name → schema map. */
export type TypeMapOf<T extends readonly EventType[]> = {
  [E in T[number] as E['name']]: E['schema'];
};

/** The `name`s of a list of dimension or metric specs, or `string` when the list is not a literal. */
export type SpecNames<S extends readonly { name: string }[]> = S[number]['name'];

/** Options of {@link definePreset}. */
export interface PresetOptions<
  T extends readonly EventType[],
  D extends readonly DimensionSpec[] = readonly DimensionSpec[],
  M extends readonly MetricSpec[] = readonly MetricSpec[],
> {
  name: string;
  types: T;
  dimensions?: D;
  metrics?: M;
  /** Envelope fields to roll up (see {@link Preset.rollupFields}). @default none */
  rollupFields?: readonly RollupField[];
}

/**
 * Bundles event types, dimensions and metrics under one name. Written inline, the dimension and
 * metric names keep their literal types, so a log built from the preset checks them at compile time.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineEventType, definePreset } from '@eventlog/core';
 * export const billing = definePreset({
 *   name: 'billing',
 *   types: [defineEventType('billing.charge', z.object({ invoice: z.string() }))],
 *   dimensions: [{ name: 'plan', indexed: true }],
 *   metrics: [{ name: 'amount_cents' }],
 * });
 * ```
 */
export function definePreset<
  const T extends readonly EventType[],
  const D extends readonly DimensionSpec[] = [],
  const M extends readonly MetricSpec[] = [],
>(options: PresetOptions<T, D, M>): Preset<TypeMapOf<T>, SpecNames<D>, SpecNames<M>> {
  return Object.freeze({
    name: options.name,
    types: options.types,
    dimensions: options.dimensions ?? [],
    metrics: options.metrics ?? [],
    rollupFields: options.rollupFields ?? [],
  });
}
