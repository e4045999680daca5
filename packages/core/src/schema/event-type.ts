import type { z } from 'zod';

/** Options of {@link defineEventType}. */
export interface EventTypeOptions {
  /** Category stored when an event of this type does not name one. */
  category?: string;
  /** Severity stored when an event of this type does not name one. @default 'info' */
  severity?: string;
  /** What the event means, for generated docs. */
  description?: string;
}

/** A registered kind of event: a name and the zod schema of its `data` payload. */
export interface EventType<Name extends string = string, Schema extends z.ZodType = z.ZodType> {
  readonly name: Name;
  readonly schema: Schema;
  readonly category: string | undefined;
  readonly severity: string | undefined;
  readonly description: string | undefined;
}

/** What an event type name may look like: a letter, then letters, digits, `_`, `.`, `:` or `-` (at most 128). */
export const EVENT_TYPE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,127}$/;

/**
 * Declares an event type whose `data` payload is validated by `schema` on every write.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { defineEventType } from '@eventlog/core';
 * export const doorUnlock = defineEventType(
 *   'access.door.unlock',
 *   z.object({ credential: z.string() }),
 *   { category: 'door_openings' },
 * );
 * ```
 */
export function defineEventType<const Name extends string, Schema extends z.ZodType>(
  name: Name,
  schema: Schema,
  options: EventTypeOptions = {},
): EventType<Name, Schema> {
  if (!EVENT_TYPE_NAME.test(name)) {
    throw new TypeError(
      `Event type name "${name}" must start with a letter and use only letters, digits, "_", ".", ":" or "-" (at most 128).`,
    );
  }
  return Object.freeze({
    name,
    schema,
    category: options.category,
    severity: options.severity,
    description: options.description,
  });
}
