/** The SQL-neutral type of a stored column. */
export type ColumnType = 'string' | 'text' | 'integer' | 'float' | 'json';

/** A canonical field of every event: its API name, its column and how it is stored. */
export interface CanonicalField {
  /** Name in the JavaScript API (camelCase). */
  readonly field: string;
  /** Column name in the store (snake_case). */
  readonly column: string;
  readonly type: ColumnType;
  /** Maximum length of string values (they are stored in indexed, bounded columns). */
  readonly maxLength?: number;
  /** Whether `query()` may sort on it. */
  readonly sortable: boolean;
}

/** Canonical fields that hold strings and can be filtered by equality or lists. */
export const STRING_FIELDS = [
  { field: 'type', column: 'type', type: 'string', maxLength: 128, sortable: true },
  { field: 'category', column: 'category', type: 'string', maxLength: 64, sortable: true },
  { field: 'action', column: 'action', type: 'string', maxLength: 128, sortable: true },
  { field: 'outcome', column: 'outcome', type: 'string', maxLength: 64, sortable: true },
  { field: 'severity', column: 'severity', type: 'string', maxLength: 16, sortable: true },
  { field: 'actorId', column: 'actor_id', type: 'string', maxLength: 128, sortable: true },
  { field: 'actorType', column: 'actor_type', type: 'string', maxLength: 64, sortable: true },
  { field: 'actorName', column: 'actor_name', type: 'string', maxLength: 255, sortable: true },
  { field: 'targetType', column: 'target_type', type: 'string', maxLength: 64, sortable: true },
  { field: 'targetId', column: 'target_id', type: 'string', maxLength: 255, sortable: true },
  { field: 'targetName', column: 'target_name', type: 'string', maxLength: 255, sortable: true },
  { field: 'tenantId', column: 'tenant_id', type: 'string', maxLength: 128, sortable: true },
  { field: 'ip', column: 'ip', type: 'string', maxLength: 64, sortable: true },
  { field: 'userAgent', column: 'user_agent', type: 'string', maxLength: 512, sortable: false },
  { field: 'sessionId', column: 'session_id', type: 'string', maxLength: 128, sortable: true },
] as const satisfies readonly CanonicalField[];

/** The API names of {@link STRING_FIELDS}. */
export type StringField = (typeof STRING_FIELDS)[number]['field'];

/** Every canonical column in table order; `id` is assigned by the store. */
export const CANONICAL_FIELDS: readonly CanonicalField[] = [
  { field: 'id', column: 'id', type: 'integer', sortable: true },
  { field: 'time', column: 'time', type: 'integer', sortable: true },
  ...STRING_FIELDS,
  { field: 'message', column: 'message', type: 'text', sortable: false },
  { field: 'durationMs', column: 'duration_ms', type: 'float', sortable: true },
  { field: 'data', column: 'data', type: 'json', sortable: false },
];

/**
 * Envelope fields that may be rolled up like a marked dimension (a rollup table keyed by the base
 * key plus the field), named by a preset's or the log's `rollupFields`. Only `ip` for now: the
 * other envelope columns either are part of every rollup key already (`tenantId`, `type`,
 * `category`, `outcome`) or have no dashboard grouping by them yet.
 */
export const ROLLUP_FIELDS = ['ip'] as const;

/** A field of {@link ROLLUP_FIELDS}. */
export type RollupField = (typeof ROLLUP_FIELDS)[number];

/** The store column of each field of {@link ROLLUP_FIELDS} (they are all stored under their own name). */
export const ROLLUP_FIELD_COLUMNS: ReadonlySet<string> = new Set<string>(ROLLUP_FIELDS);

/** Column names that dimensions and metrics may not take. */
export const RESERVED_COLUMNS: ReadonlySet<string> = new Set(CANONICAL_FIELDS.map((f) => f.column));

/** Fields searched by a keyword filter. */
export const SEARCH_COLUMNS = ['message', 'type', 'action'] as const;

/** Maximum length of a string dimension value (fits an indexed column on every engine). */
export const DIMENSION_MAX_LENGTH = 255;

/** A valid column name for a declared dimension or metric. */
export const COLUMN_NAME_PATTERN = /^[a-z][a-z0-9_]{0,47}$/;
