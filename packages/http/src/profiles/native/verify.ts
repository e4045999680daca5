import type { Principal } from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { queryInt, queryString } from '../../params.js';
import { json, type RouteGroup } from '../../profile.js';
import { requireLogAdmin } from './auth.js';

const hash = z.string().regex(/^[0-9a-f]{64}$/);

/** The wire shape of a verification report (see `VerifyReport` in `@eventlog/core`). */
const reportSchema = z.object({
  ok: z.boolean(),
  tenantId: z.string().nullable(),
  segmentsChecked: z.number().int(),
  segmentsPruned: z.number().int(),
  pruned: z.array(
    z.object({
      firstSeq: z.number().int(),
      lastSeq: z.number().int(),
      count: z.number().int(),
      firstTime: z.number().int(),
      lastTime: z.number().int(),
      merkleRoot: hash,
    }),
  ),
  rowsChecked: z.number().int(),
  sealedSeq: z.number().int(),
  headSeq: z.number().int(),
  signaturesVerified: z.boolean(),
  firstBrokenSeq: z.number().int().nullable(),
  modified: z.array(z.object({ seq: z.number().int(), id: z.number().int() })),
  expired: z.array(z.object({ seq: z.number().int(), id: z.number().int(), fields: z.array(z.string()).nullable() })),
  deleted: z.array(z.object({ seq: z.number().int(), id: z.number().int().nullable() })),
  inserted: z.array(z.object({ id: z.number().int(), seq: z.number().int().nullable() })),
  reordered: z.array(z.object({ id: z.number().int(), seq: z.number().int(), expectedSeq: z.number().int() })),
  checkpointFailures: z.array(z.object({ firstSeq: z.number().int(), lastSeq: z.number().int(), reason: z.string() })),
  missingNewest: z.object({ fromSeq: z.number().int(), toSeq: z.number().int() }).nullable(),
  truncated: z.boolean(),
});

const anchorSchema = z.union([
  z.object({ tenantId: z.string().nullable(), seq: z.number().int().min(1), hash }),
  z.object({ format: z.literal('eventlog-checkpoint/1') }).passthrough(),
]);

/**
 * Adds the tamper-evidence routes (admins only): `POST <prefix>/verify` checks a tenant's hash
 * chain against its checkpoints and the anchors sent, and `GET <prefix>/checkpoints` exports the
 * signed checkpoints for anchoring elsewhere. @internal
 */
export function addVerifyRoutes(prefix: string, group: RouteGroup<Principal>): void {
  const adminOnly = (principal: Principal) => requireLogAdmin(principal, 'verify the log or export its checkpoints');

  group.route({
    method: 'POST',
    path: `${prefix}/verify`,
    cost: 'expensive',
    body: z.unknown(),
    maxBodyBytes: 4 * 1_048_576,
    run: async ({ log, auth: principal, body }) => {
      adminOnly(principal);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new HttpError('BAD_REQUEST', 'Send { "tenantId": string | null, "since"?, "until"?, "anchors"? }.');
      }
      // The core validates every field (one schema per operation) and answers VALIDATION_FAILED.
      return json({ data: await log.verify(body as Parameters<typeof log.verify>[0]) });
    },
    docs: {
      summary: 'Verify a tenant’s hash chain (admins)',
      description:
        'Checks every link, every checkpoint signature and Merkle root, and the anchors sent (heads or exported checkpoints): rows modified, deleted, inserted or reordered, and newest rows missing against an anchor.',
      request: z.object({
        tenantId: z.string().nullable(),
        since: z.number().int().optional(),
        until: z.number().int().optional(),
        anchors: z.array(anchorSchema).optional(),
      }),
      response: z.object({ data: reportSchema }),
      tags: ['integrity'],
    },
  });

  group.route({
    method: 'GET',
    path: `${prefix}/checkpoints`,
    query: z.object({
      tenantId: queryString({ max: 128, description: 'Only this tenant’s checkpoints; every tenant’s when absent.' }),
      nullTenant: queryInt({ min: 0, max: 1, description: '1: the checkpoints of events without a tenant.' }),
      afterSeq: queryInt({ min: 0, max: Number.MAX_SAFE_INTEGER, description: 'Only checkpoints starting after this position.' }),
      limit: queryInt({ min: 1, max: 10_000, default: 1000, description: 'Most checkpoints returned.' }),
    }),
    run: async ({ log, auth: principal, query }) => {
      adminOnly(principal);
      const tenantId = query.nullTenant === 1 ? null : query.tenantId;
      const data = await log.integrity.exportCheckpoints({
        ...(tenantId !== undefined ? { tenantId } : {}),
        ...(query.afterSeq !== undefined ? { afterSeq: query.afterSeq } : {}),
        limit: query.limit,
      });
      return json({ data });
    },
    docs: { summary: 'Signed checkpoints of the hash chains, for anchoring elsewhere (admins)', tags: ['integrity'] },
  });
}
