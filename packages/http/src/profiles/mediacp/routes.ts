import type { EventLogView, ExportColumn, FilterInput } from '@eventlog/core';
import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { type AnyEventLog, createRouteGroup, type Route } from '../../profile.js';
import { csvResponse } from '../../stream.js';
import { formatSqlTime } from '../zoned-time.js';
import { type MediaCpUser, mediaCpAuthenticator, principalOf } from './auth.js';
import type { MediaCpOptions } from './index.js';
import { type ListQuery, listQuerySchema, serviceIdSchema } from './params.js';
import { categoryLabel, LABELS, STORED_TYPES, TYPE_PREFIX, wireType } from './preset.js';
import { formatLog } from './wire.js';

/** Where the product serves its event log. @internal */
export const PER_SERVICE_ROOT = '/controller/EventLog';

/** The CSV columns of the panel's export; the global view adds the service and customer. */
function exportColumns(timeZone: string, global: boolean): ExportColumn[] {
  const columns: ExportColumn[] = [
    { header: 'ID', value: (e) => e.id },
    { header: 'Date', value: (e) => formatSqlTime(e.time, timeZone) },
    { header: 'Category', value: (e) => categoryLabel(e.category) },
    { header: 'Event', value: (e) => LABELS.get(e.type) ?? e.type },
    { header: 'Event Type', value: (e) => wireType(e.type) },
    { header: 'Actor Type', value: (e) => e.actor.type ?? '' },
    { header: 'Actor', value: (e) => e.actor.name ?? e.actor.id ?? '' },
    { header: 'Description', value: (e) => e.message ?? '' },
    { header: 'IP Address', value: (e) => e.ip ?? '' },
  ];
  if (!global) return columns;
  return [
    ...columns,
    { header: 'Service ID', value: (e) => e.target.id ?? '' },
    { header: 'Service Name', value: (e) => e.target.name ?? '' },
    { header: 'Customer ID', value: (e) => e.tenantId ?? '' },
    { header: 'Customer Name', value: (e) => e.dimensions.customer_name ?? '' },
  ];
}

/** The global and per-service list and export routes, authenticated as one group. @internal */
export function mediaCpRoutes(options: MediaCpOptions, timeZone: string): readonly Route[] {
  const maxPerPage = options.maxPerPage ?? 100;
  const defaultPerPage = Math.min(options.defaultPerPage ?? 25, maxPerPage);
  const maxExportRows = options.maxExportRows ?? 100_000;
  const clock = options.clock ?? Date.now;
  const query = listQuerySchema(timeZone, defaultPerPage, maxPerPage);

  const viewFor = (log: AnyEventLog, user: MediaCpUser): EventLogView => {
    const principal = principalOf(user);
    return log.view({ ...(principal ? { principal } : {}), ...(options.maskIp ? { maskIp: true } : {}) });
  };

  const filterOf = (q: ListQuery, serviceId: string | undefined): FilterInput => {
    const filter: FilterInput = {
      type: q.event_type ? q.event_type.map((t) => `${TYPE_PREFIX}${t}`) : STORED_TYPES,
    };
    if (q.category) filter.category = q.category;
    const service = serviceId ?? q.service_id;
    if (service !== undefined) filter.targetId = service;
    if (q.date_from !== undefined) filter.since = q.date_from;
    if (q.date_to !== undefined) filter.until = q.date_to;
    if (q.search) filter.search = q.search;
    return filter;
  };

  const exportView = (view: EventLogView, filter: FilterInput, serviceId: string | undefined): Promise<Response> => {
    const global = serviceId === undefined;
    const day = formatSqlTime(clock(), timeZone).slice(0, 10);
    const filename = global ? `stream-events-${day}.csv` : `stream-events-service-${serviceId}-${day}.csv`;
    return csvResponse(view.exportCsv({ filter, columns: exportColumns(timeZone, global), maxRows: maxExportRows }), { filename });
  };

  const list = async (log: AnyEventLog, user: MediaCpUser, q: ListQuery, serviceId: string | undefined) => {
    const view = viewFor(log, user);
    const filter = filterOf(q, serviceId);
    if (q.format === 'csv') return exportView(view, filter, serviceId);
    const page = await view.query({ filter, page: q.page ?? 1, pageSize: q.per_page ?? defaultPerPage });
    const now = clock();
    return {
      logs: page.items.map((e) => formatLog(e, now, timeZone)),
      total: page.total,
      page: page.page,
      totalPages: page.totalPages,
      perPage: page.pageSize,
    };
  };

  const checkService = async (user: MediaCpUser, serviceId: string, q: ListQuery) => {
    if (q.service_id !== undefined && q.service_id !== serviceId) {
      throw new HttpError(
        'BAD_REQUEST',
        `Invalid query parameter "service_id": it names service ${q.service_id}, but the path names ${serviceId}.`,
      );
    }
    if (options.serviceAccess && !(await options.serviceAccess(user, serviceId))) {
      throw new HttpError('NOT_FOUND', `Service ${serviceId} was not found.`);
    }
  };

  const group = createRouteGroup({ authenticate: mediaCpAuthenticator(options.authenticate) });
  const serviceParams = z.object({ id: serviceIdSchema });
  group.route({
    method: 'GET',
    path: [`${PER_SERVICE_ROOT}/export`, `${PER_SERVICE_ROOT}/export/`],
    cost: 'expensive',
    query,
    run: ({ log, auth: user, query: q }) => list(log, user, { ...q, format: 'csv' }, undefined),
    docs: { summary: 'Export the filtered global view as CSV', contentType: 'text/csv', tags: ['mediacp'] },
  });
  group.route({
    method: 'GET',
    path: [PER_SERVICE_ROOT, `${PER_SERVICE_ROOT}/`],
    cost: 'expensive',
    query,
    run: ({ log, auth: user, query: q }) => list(log, user, q, undefined),
    docs: { summary: 'Stream events of every service the caller may see', tags: ['mediacp'] },
  });
  group.route({
    method: 'GET',
    path: [`${PER_SERVICE_ROOT}/:id/export`, `${PER_SERVICE_ROOT}/:id/export/`],
    cost: 'expensive',
    params: serviceParams,
    query,
    run: async ({ log, auth: user, query: q, params }) => {
      await checkService(user, params.id, q);
      return list(log, user, { ...q, format: 'csv' }, params.id);
    },
    docs: { summary: "Export one service's filtered events as CSV", contentType: 'text/csv', tags: ['mediacp'] },
  });
  group.route({
    method: 'GET',
    path: [`${PER_SERVICE_ROOT}/:id`, `${PER_SERVICE_ROOT}/:id/`],
    cost: 'expensive',
    params: serviceParams,
    query,
    run: async ({ log, auth: user, query: q, params }) => {
      await checkService(user, params.id, q);
      return list(log, user, q, params.id);
    },
    docs: { summary: 'Stream events of one service', tags: ['mediacp'] },
  });
  return group.routes;
}
