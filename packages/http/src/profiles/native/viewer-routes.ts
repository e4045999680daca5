import type { Principal } from '@eventlog/core';
import { z } from 'zod';
import type { RouteGroup } from '../../profile.js';
import { recordViewed } from './audit.js';
import { grantOf } from './auth.js';

const principalSchema = z.object({
  role: z.enum(['admin', 'reseller', 'user']),
  id: z.string().optional(),
  tenantId: z.string().optional(),
  tenantIds: z.array(z.string()).optional(),
});

/** Adds `whoami` and `schema`, what a page (the viewer) asks before it builds its controls. @internal */
export function addViewerRoutes(prefix: string, group: RouteGroup<Principal>): void {
  group.route({
    method: 'GET',
    path: `${prefix}/whoami`,
    run: async ({ log, auth: principal, request }) => {
      const grant = grantOf(principal);
      await recordViewed(log, request, principal, grant);
      return { data: { principal, expiresAt: grant.expiresAt, filter: grant.filter, readOnly: grant.readOnly } };
    },
    docs: {
      summary: 'What this credential may see',
      description:
        'The principal (role and tenants), when the credential expires (epoch ms, null for none), the fixed filter every read is limited to (null for none) and whether it may only read. Each call is recorded as an `eventlog.viewed` event: call it once when a view opens.',
      response: z.object({
        data: z.object({
          principal: principalSchema,
          expiresAt: z.number().int().nullable(),
          filter: z.record(z.string(), z.unknown()).nullable(),
          readOnly: z.boolean(),
        }),
      }),
      tags: ['viewer'],
    },
  });

  group.route({
    method: 'GET',
    path: `${prefix}/schema`,
    run: ({ log }) => {
      const { registry } = log;
      const metrics = [...registry.metrics.values()];
      return {
        data: {
          types: [...registry.types.values()]
            .map((t) => ({ name: t.name, category: t.category ?? null, severity: t.severity ?? null, description: t.description ?? null }))
            .sort((a, b) => a.name.localeCompare(b.name)),
          allowUnknownTypes: registry.allowUnknownTypes,
          dimensions: [...registry.dimensions.values()].map((d) => ({ name: d.name, type: d.type, indexed: d.indexed })),
          metrics: metrics.map((m) => ({ name: m.name, type: m.type, tokens: m.tokens })),
          tpmMetrics: metrics.filter((m) => m.tokens).map((m) => m.name),
        },
      };
    },
    docs: {
      summary: 'Declared event types, dimensions and metrics',
      description:
        'What a page needs to build its filters and charts: the registered event types with their category, whether other types are accepted too, the declared dimensions (filter with `dim.<name>`, group with `top?by=<name>`), the declared metrics, and which metrics TPM sums (`tpmMetrics`); RPM counts events.',
      response: z.object({
        data: z.object({
          types: z.array(
            z.object({
              name: z.string(),
              category: z.string().nullable(),
              severity: z.string().nullable(),
              description: z.string().nullable(),
            }),
          ),
          allowUnknownTypes: z.boolean(),
          dimensions: z.array(z.object({ name: z.string(), type: z.enum(['string', 'integer']), indexed: z.boolean() })),
          metrics: z.array(z.object({ name: z.string(), type: z.enum(['integer', 'float']), tokens: z.boolean() })),
          tpmMetrics: z.array(z.string()),
        }),
      }),
      tags: ['viewer'],
    },
  });
}
