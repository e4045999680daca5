import { z } from 'zod';
import type { Route } from './profile.js';
import type { Method } from './router.js';

/** A JSON value of the generated document. */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, unknown>> };

/** Options of {@link createOpenApiDocument}. */
export interface OpenApiOptions {
  /** The API's title. */
  title: string;
  /** The API's version. @default '1.0.0' */
  version?: string;
  /** Prose shown above the operations. */
  description?: string;
  /** Path prefix the handler is mounted under, prepended to every path. @default '' */
  basePath?: string;
  /** Schema of every error body. @default none (a bare description) */
  errorSchema?: z.ZodType;
  /** Security schemes by name; each secured route requires all of them. @default {} */
  securitySchemes?: Record<string, Record<string, unknown>>;
  /** The document's `servers` list. @default none (see {@link mountOpenApiDocument} to set it per request) */
  servers?: readonly OpenApiServer[];
}

/** One entry of an OpenAPI `servers` list. */
export interface OpenApiServer {
  /** Base URL the paths are appended to. */
  url: string;
  /** What this server is. */
  description?: string;
}

/** Where a handler is mounted, as {@link mountOpenApiDocument} needs it. */
export interface OpenApiMount {
  /** The mount path (a handler's `basePath`, an Express mount path), prepended to every path. @default '' */
  basePath?: string;
  /** The origin the document was requested from, e.g. `https://logs.example.com`, used as the server URL. @default none: the server URL is `/` */
  origin?: string;
}

/**
 * Generates an OpenAPI 3.1 document from routes and their zod schemas (`z.toJSONSchema`): path and
 * query parameters, request bodies, success bodies from `docs.response`, and a shared error answer.
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * import { createOpenApiDocument, queryInt } from '@eventlog/http';
 * const doc = createOpenApiDocument(
 *   [{ method: 'GET', path: '/count', query: z.object({ max: queryInt() }), run: () => ({ count: 0 }) }],
 *   { title: 'Counts' },
 * );
 * ```
 */
export function createOpenApiDocument(routes: readonly Route[], options: OpenApiOptions): OpenApiDocument {
  const base = (options.basePath ?? '').replace(/\/+$/, '');
  const paths: Record<string, Record<string, unknown>> = {};
  const components: Record<string, Record<string, unknown>> = { responses: {} };
  const schemes = options.securitySchemes ?? {};
  if (Object.keys(schemes).length) components.securitySchemes = schemes;
  components.responses!.Error = {
    description: 'The request was refused; the body names the reason.',
    ...(options.errorSchema ? { content: { 'application/json': { schema: toSchema(options.errorSchema, 'output') } } } : {}),
  };
  const usedIds = new Set<string>();
  for (const route of routes) {
    if (route.docs?.hidden) continue;
    const methods = typeof route.method === 'string' ? [route.method] : [...route.method];
    for (const rawPath of typeof route.path === 'string' ? [route.path] : route.path) {
      const path = base + rawPath.replace(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
      for (const method of methods) {
        const operation = buildOperation(route, method, rawPath, Object.keys(schemes), usedIds);
        paths[path] ??= {};
        paths[path]![method.toLowerCase()] = operation;
      }
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: options.title,
      version: options.version ?? '1.0.0',
      ...(options.description ? { description: options.description } : {}),
    },
    ...(options.servers?.length ? { servers: options.servers.map((server) => ({ ...server })) } : {}),
    paths,
    components,
  };
}

/**
 * Returns a copy of a document (generated with paths relative to the handler) for a handler
 * mounted at `basePath`: every path gets the mount path in front, and `servers` names the origin
 * the document was read from, so a generated client configured with nothing but that document
 * calls the URLs the handler serves. The input document is not changed, so one document can be
 * generated once and mounted per request.
 *
 * @example
 * ```ts
 * import { createOpenApiDocument, mountOpenApiDocument } from '@eventlog/http';
 * const doc = createOpenApiDocument([{ method: 'GET', path: '/count', run: () => ({ count: 0 }) }], { title: 'Counts' });
 * const mounted = mountOpenApiDocument(doc, { basePath: '/logs', origin: 'https://example.com' });
 * Object.keys(mounted.paths); // ['/logs/count']
 * ```
 */
export function mountOpenApiDocument(document: OpenApiDocument, mount: OpenApiMount): OpenApiDocument {
  const base = normalizeMount(mount.basePath ?? '');
  const paths = base ? Object.fromEntries(Object.entries(document.paths).map(([path, item]) => [base + path, item])) : document.paths;
  const description = base ? `This server, with the API mounted at ${base}.` : 'This server.';
  return { ...document, servers: [{ url: mount.origin ?? '/', description }], paths };
}

function normalizeMount(basePath: string): string {
  const trimmed = basePath.replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

function buildOperation(route: Route, method: Method, rawPath: string, schemes: string[], usedIds: Set<string>): Record<string, unknown> {
  const docs = route.docs ?? {};
  let operationId =
    docs.operationId ??
    `${method.toLowerCase()}${rawPath.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`;
  while (usedIds.has(operationId)) operationId += '_';
  usedIds.add(operationId);
  const parameters: Record<string, unknown>[] = [];
  const pathNames = [...rawPath.matchAll(/[:*]([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  const pathSchema = route.params ? objectProperties(route.params) : { properties: {}, required: [] };
  for (const name of pathNames) {
    parameters.push({ name, in: 'path', required: true, schema: pathSchema.properties[name] ?? { type: 'string' } });
  }
  if (route.query) {
    const { properties, required } = objectProperties(route.query);
    for (const [name, schema] of Object.entries(properties)) {
      const { description, ...rest } = schema as { description?: string };
      parameters.push({ name, in: 'query', required: required.includes(name), ...(description ? { description } : {}), schema: rest });
    }
  }
  const operation: Record<string, unknown> = { operationId };
  if (docs.summary) operation.summary = docs.summary;
  if (docs.description) operation.description = docs.description;
  if (docs.tags?.length) operation.tags = [...docs.tags];
  if (parameters.length) operation.parameters = parameters;
  const requestSchema = docs.request ?? route.body;
  if (requestSchema && method !== 'GET' && method !== 'DELETE') {
    operation.requestBody = { required: true, content: { 'application/json': { schema: toSchema(requestSchema, 'input') } } };
  }
  const contentType = docs.contentType ?? 'application/json';
  const success: Record<string, unknown> = { description: docs.summary ?? 'Success.' };
  if (docs.response) success.content = { [contentType]: { schema: toSchema(docs.response, 'output') } };
  else if (contentType !== 'application/json') success.content = { [contentType]: { schema: { type: 'string' } } };
  operation.responses = { [String(docs.status ?? 200)]: success, '4XX': { $ref: '#/components/responses/Error' } };
  const secured = docs.secured ?? Boolean(route.auth);
  if (schemes.length) operation.security = secured ? schemes.map((name) => ({ [name]: [] })) : [];
  return operation;
}

/** JSON Schema (2020-12, which OpenAPI 3.1 uses) of a zod schema, without the `$schema` key. */
function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as Record<
    string,
    unknown
  >;
  return rest;
}

function objectProperties(schema: z.ZodType): { properties: Record<string, Record<string, unknown>>; required: string[] } {
  const json = toSchema(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return { properties: json.properties ?? {}, required: json.required ?? [] };
}
