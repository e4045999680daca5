import type { z } from 'zod';
import type { EventType } from './event-type.js';

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

/** A bundle of event types, dimensions and metrics that one product needs. */
export interface Preset<Types extends EventTypeMap = EventTypeMap> {
  readonly name: string;
  readonly types: readonly EventType[];
  readonly dimensions: readonly DimensionSpec[];
  readonly metrics: readonly MetricSpec[];
  /** @internal phantom field carrying the type map */
  readonly __types?: Types;
}

/** Turns a tuple of event types into a name → schema map. */
export type TypeMapOf<T extends readonly EventType[]> = {
  [E in T[number] as E['name']]: E['schema'];
};

/** Options of {@link definePreset}. */
export interface PresetOptions<T extends readonly EventType[]> {
  name: string;
  types: T;
  dimensions?: readonly DimensionSpec[];
  metrics?: readonly MetricSpec[];
}

/**
 * Bundles event types, dimensions and metrics under one name.
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
export function definePreset<const T extends readonly EventType[]>(options: PresetOptions<T>): Preset<TypeMapOf<T>> {
  return Object.freeze({
    name: options.name,
    types: options.types,
    dimensions: options.dimensions ?? [],
    metrics: options.metrics ?? [],
  });
}
