export type { BufferOptions } from './buffer/write-buffer.js';
export { dynamic } from './dynamic.js';
export {
  AbortedError,
  ERROR_CODES,
  type ErrorCode,
  EventLogError,
  type EventLogErrorOptions,
  ForbiddenError,
  InvalidCursorError,
  isEventLogError,
  NotFoundError,
  StoreError,
  ValidationError,
  type ValidationIssue,
} from './errors.js';
export { createEventLog } from './event-log.js';
export type { EventLogEvents, FlushedInfo, PrunedInfo } from './events.js';
export { csvCell, csvLine, DEFAULT_CSV_FIELDS } from './export/csv.js';
export {
  type FilterInput,
  MAX_LIST_VALUES,
  matchesConditions,
  type OneOrMany,
  type RangeInput,
  type TimeInput,
} from './filter/filter.js';
export { CHAIN_FORMAT, GENESIS_HASH } from './integrity/canonical.js';
export { CHECKPOINT_FORMAT, type Checkpoint } from './integrity/checkpoint.js';
export { INTEGRITY_SCHEMA_VERSION, type IntegrityApi, type SealedBoundary, type VerifyInput } from './integrity/integrity.js';
export type { ChainSelection, IntegrityOptions, SegmentOptions } from './integrity/options.js';
export type { ChainAnchor, CheckpointFailureReason, PrunedSegment, VerifyReport } from './integrity/verify.js';
export { DEFAULT_LIMITS, type EventLogLimits, type EventLogOptions, type LimitOptions, type RetentionOptions } from './options.js';
export type { CursorQueryInput, OffsetQueryInput, PageQueryInput, QueryInput, QueryLimits, SortInput } from './pagination/query.js';
export {
  EVENTLOG_EXPORTED_TYPE,
  EVENTLOG_VIEWED_TYPE,
  eventlogAuditPreset,
  eventlogExportedDataSchema,
  eventlogViewedDataSchema,
} from './presets/eventlog-audit.js';
export {
  HTTP_REQUEST_TYPE,
  type HttpRequestInput,
  httpRequestDataSchema,
  httpRequestEvent,
  httpRequestsPreset,
} from './presets/http-requests.js';
export { maskIp } from './privacy/mask-ip.js';
export { DEFAULT_IP_MASK, type IpMaskOptions, maskIpPrefix } from './privacy/mask-prefix.js';
export {
  DEFAULT_REDACT_KEYS,
  DEFAULT_REDACT_PATTERNS,
  REDACT_PATTERN_FIELDS,
  REDACTED,
  type RedactOptions,
  type RedactPatternField,
} from './privacy/redact.js';
export type { PrivacyOptions, PrivacyRules } from './privacy/write-privacy.js';
export type { ReadOptions } from './read/read-options.js';
export type {
  ArchiveOptions,
  ArchiveStream,
  JobArchive,
  JobChainRetention,
  JobInfo,
  JobListInput,
  JobsApi,
  PolicyMatch,
  PolicyRunOptions,
  PolicySubject,
  PruneJobInput,
  RetentionPolicy,
} from './retention/job-types.js';
export { createMemoryJobStore } from './retention/memory-jobs.js';
export {
  coverRange,
  ROLLUP_GRAINS,
  ROLLUP_KEY_COLUMNS,
  type RollupDelta,
  rollupBatchDeltas,
  rollupColumns,
  rollupDeltas,
  rollupGrains,
  rollupTables,
} from './rollups/model.js';
export type { Actor, ActorInput, EventInput, PayloadLimitOptions, StoredEvent, Target, TargetInput } from './schema/event.js';
export { defineEventType, EVENT_TYPE_NAME, type EventType, type EventTypeOptions } from './schema/event-type.js';
export {
  CANONICAL_FIELDS,
  type CanonicalField,
  type ColumnType,
  ROLLUP_FIELD_COLUMNS,
  ROLLUP_FIELDS,
  type RollupField,
  SEARCH_COLUMNS,
  STRING_FIELDS,
  type StringField,
} from './schema/fields.js';
export {
  type DimensionSpec,
  type DimensionType,
  definePreset,
  type EventTypeMap,
  type MetricSpec,
  type MetricType,
  type Preset,
  type PresetOptions,
  type SpecNames,
  type TypeMapOf,
} from './schema/preset.js';
export type { Registry, ResolvedDimension, ResolvedMetric } from './schema/registry.js';
export type { Principal } from './scope/principal.js';
export { BUCKETS, type Bucket, isValidTimeZone, type TimelinePoint } from './stats/timeline.js';
export type {
  ChainLinker,
  ChainRowsQuery,
  ChainStore,
  ChainTail,
  CheckpointRecord,
  UnchainedRowsQuery,
} from './storage/chain-contract.js';
export type {
  AggregateQuery,
  AggregateRow,
  Condition,
  DeleteQuery,
  EventRow,
  EventStore,
  FindQuery,
  GroupBy,
  IndexSpec,
  JobQuery,
  JobRow,
  JobStatus,
  JobStore,
  MigrateOptions,
  ReleaseLock,
  RollupProgress,
  RollupQuery,
  RollupSpan,
  RollupSpec,
  RowValue,
  SessionQuery,
  SessionRow,
  SortDirection,
  StorageAdapter,
  StoreCapabilities,
  StoreColumn,
  StoredRow,
  StoreReadOptions,
  StoreSchema,
  StreamQuery,
} from './storage/contract.js';
export { fromSessionColumns, type SessionColumns, toSessionColumns } from './storage/session-columns.js';
export { createIsoFormatter } from './time/iso.js';
export { zoneOffsetMinutes } from './time/zone.js';
export type {
  ClosedSession,
  CountByEntry,
  CountByInput,
  CursorResult,
  DataInput,
  DataOutput,
  DynamicName,
  EventLog,
  EventLogReader,
  EventLogView,
  EventOf,
  ExpireDataInput,
  ExportColumn,
  ExportColumnName,
  ExportInput,
  JsonOf,
  LatestInput,
  Maintenance,
  OffsetResult,
  OpenSession,
  PageResult,
  PresetDimensions,
  PresetMetrics,
  PresetTypes,
  PruneInput,
  RebuildRollupsOptions,
  SessionFilter,
  SessionListInput,
  SessionsApi,
  SessionsReader,
  SortableField,
  SortField,
  Stats,
  Timeline,
  TimelineInput,
  TopEntry,
  TopField,
  TopInput,
  TypedQuery,
  TypedSortInput,
  TypeName,
  TypeSelector,
  ViewOptions,
} from './types.js';
