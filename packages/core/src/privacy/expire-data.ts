import { z } from 'zod';
import { type LogCore, parseInput } from '../core.js';
import { EventLogError } from '../errors.js';
import type { createJobs } from '../retention/jobs.js';
import { batchedPassSchema, passConditions } from '../retention/prune.js';
import type { ExpireDataInput } from '../types.js';

// Segments are embedded in the engines' JSON path syntax, so they are held to plain key names.
const FIELD = /^data(?:\.[A-Za-z0-9_-]{1,128}){1,16}$/;
const FIELD_MESSAGE = 'must be a path into data such as "data.user.email" (keys of letters, digits, "_" or "-")';

/** The paths of an expiry: `data.`-prefixed paths into data. @internal */
export const expireFieldsSchema = z
  .array(z.string().regex(FIELD, FIELD_MESSAGE), 'must be a list of paths')
  .min(1, 'must name at least one path')
  .optional();

const expireSchema = (defaultBatchSize: number) =>
  batchedPassSchema(defaultBatchSize, 5).omit({ archive: true }).extend({ fields: expireFieldsSchema });

/**
 * Field time-to-live: removes `data` (or paths of it) from old events in bounded batches through
 * the store's optional `redactData`, keeping every other column, so counts, metrics, dimensions
 * and rollups over them stay as they were. Each call runs as a job named `expireData`. @internal
 */
export function createExpireData(core: LogCore, jobs: ReturnType<typeof createJobs>) {
  let schema: ReturnType<typeof expireSchema> | undefined;
  return async function expireData(input: ExpireDataInput): Promise<number> {
    core.assertOpen();
    schema ??= expireSchema(core.store.capabilities.deleteBatchSize);
    const { before, batchSize, pauseMs, fields, filter, signal, dryRun } = parseInput(schema, input);
    if (!core.store.redactData) {
      throw new EventLogError(
        'UNSUPPORTED',
        `The ${core.store.engine} store cannot remove data from stored events (it has no redactData).`,
      );
    }
    await core.ready();
    const where = passConditions(core, before, filter);
    const paths = fields ? [...new Set(fields.map((field) => field.slice('data.'.length)))] : null;
    const job = await jobs.runAdHoc(
      { kind: 'expireData', name: 'expireData', before, segments: [where], fields: paths, batchSize, pauseMs, dryRun: dryRun === true },
      undefined,
      signal,
    );
    return job.processed;
  };
}
