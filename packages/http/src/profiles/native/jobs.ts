import type { JobStatus, Principal } from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { queryInt, queryList, queryString } from '../../params.js';
import type { RouteGroup } from '../../profile.js';
import { requireLogAdmin } from './auth.js';

const STATUSES = ['pending', 'running', 'succeeded', 'failed', 'cancelled'] as const satisfies readonly JobStatus[];

const jobSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(['delete', 'expireData']),
  status: z.enum(STATUSES),
  dryRun: z.boolean(),
  total: z.number().int().nullable(),
  processed: z.number().int(),
  remaining: z.number().int().nullable(),
  dryRunCount: z.number().int().nullable(),
  before: z.number().int(),
  createdAt: z.number().int(),
  startedAt: z.number().int().nullable(),
  finishedAt: z.number().int().nullable(),
  updatedAt: z.number().int(),
  error: z.string().nullable(),
  cancelRequested: z.boolean(),
  archive: z
    .object({
      format: z.enum(['jsonl', 'csv']),
      gzip: z.boolean(),
      file: z.string().nullable(),
      rows: z.number().int(),
      bytes: z.number().int(),
      sha256: z.string().nullable(),
    })
    .nullable(),
});

const idParams = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a job id') });

/** Adds the retention-job routes (admins only): the job history, one job, and cancel. @internal */
export function addJobRoutes(prefix: string, group: RouteGroup<Principal>): void {
  group.route({
    method: 'GET',
    path: `${prefix}/jobs`,
    query: z.object({
      name: queryString({ max: 128, description: 'Only jobs of this policy (or prune / expireData).' }),
      status: queryList({ max: 16, maxItems: 5, description: `Only jobs in these states: ${STATUSES.join(', ')}.` }).refine(
        (list) => !list || list.every((s) => (STATUSES as readonly string[]).includes(s)),
        `must be among ${STATUSES.join(', ')}`,
      ),
      limit: queryInt({ min: 1, max: 1000, default: 50, description: 'Jobs per page, newest first.' }),
      offset: queryInt({ min: 0, max: 100_000, default: 0, description: 'Jobs to skip.' }),
    }),
    run: async ({ log, auth, query }) => {
      requireLogAdmin(auth, 'see retention jobs');
      const jobs = await log.jobs.list({
        limit: query.limit,
        offset: query.offset,
        ...(query.name ? { name: query.name } : {}),
        ...(query.status ? { status: query.status as JobStatus[] } : {}),
      });
      return { data: jobs };
    },
    docs: { summary: 'Retention job history, newest first (admins)', response: z.object({ data: z.array(jobSchema) }), tags: ['jobs'] },
  });

  group.route({
    method: 'GET',
    path: `${prefix}/jobs/:id`,
    params: idParams,
    run: async ({ log, auth, params }) => {
      requireLogAdmin(auth, 'see retention jobs');
      const job = await log.jobs.get(params.id);
      if (!job) throw new HttpError('NOT_FOUND', `There is no job ${params.id}.`);
      return { data: job };
    },
    docs: { summary: 'One retention job (admins)', response: z.object({ data: jobSchema }), tags: ['jobs'] },
  });

  group.route({
    method: 'POST',
    path: `${prefix}/jobs/:id/cancel`,
    params: idParams,
    run: async ({ log, auth, params }) => {
      requireLogAdmin(auth, 'cancel retention jobs', { writes: true });
      const job = await log.jobs.cancel(params.id);
      if (!job) throw new HttpError('NOT_FOUND', `There is no job ${params.id}.`);
      return { data: job };
    },
    docs: {
      summary: 'Cancel a retention job: a running one stops after its current batch (admins)',
      response: z.object({ data: jobSchema }),
      tags: ['jobs'],
    },
  });
}
