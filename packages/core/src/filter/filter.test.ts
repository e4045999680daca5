import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { isEventLogError, type ValidationError } from '../errors.js';
import { createEventLog } from '../event-log.js';

const log = createEventLog({
  store: createSqliteStore(),
  dimensions: [{ name: 'model' }, { name: 'constructor' }],
  metrics: [{ name: 'tokens' }],
});
afterAll(() => log.close());

async function issuesOf(filter: unknown) {
  const error = await log.query({ filter: filter as never }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isEventLogError(error, 'VALIDATION_FAILED')).toBe(true);
  return (error as ValidationError).issues;
}

describe('filters on names that are not declared', () => {
  it('rejects a __proto__ dimension sent as JSON (an own key) instead of matching every row', async () => {
    await log.record({ type: 'a', dimensions: { model: 'x' } });
    expect(await issuesOf(JSON.parse('{"dimensions":{"__proto__":"x"}}'))).toEqual([
      { path: ['filter', 'dimensions', '__proto__'], message: 'expected a declared dimension (model, constructor), received "__proto__"' },
    ]);
    expect(await issuesOf(JSON.parse('{"metrics":{"__proto__":{"gte":1}}}'))).toEqual([
      { path: ['filter', 'metrics', '__proto__'], message: 'expected a declared metric (tokens), received "__proto__"' },
    ]);
  });

  it('rejects { __proto__: … } written as a literal, which sets a prototype rather than a key', async () => {
    expect(await issuesOf({ dimensions: { __proto__: { model: 'x' } } })).toEqual([
      {
        path: ['filter', 'dimensions'],
        message: 'expected a plain object of declared dimensions (model, constructor), received an object with a custom prototype',
      },
    ]);
  });

  it('rejects names of Object.prototype members like any other undeclared name', async () => {
    for (const name of ['toString', 'hasOwnProperty', 'prototype', 'valueOf']) {
      expect(await issuesOf({ dimensions: { [name]: 'x' } })).toEqual([
        { path: ['filter', 'dimensions', name], message: `expected a declared dimension (model, constructor), received "${name}"` },
      ]);
    }
  });

  it('filters on a declared dimension whose name is also an Object.prototype member', async () => {
    await log.record({ type: 'a', dimensions: { constructor: 'c1' } });
    const page = await log.query({ filter: { dimensions: { constructor: 'c1' } } });
    expect(page.items.map((e) => e.dimensions.constructor)).toEqual(['c1']);
  });
});

describe('tenant ids with U+0000', () => {
  it('are stored, filtered and scoped as their U+FFFD spelling, as PostgreSQL stores them', async () => {
    const own = createEventLog({ store: createSqliteStore(), allowUnknownTypes: true });
    try {
      await own.recordMany([
        { type: 't.a', tenantId: 'x\u0000y' },
        { type: 't.b', tenantId: 'x\ufffdy' },
        { type: 't.c', tenantId: 'xy' },
      ]);
      const page = await own.query({ filter: { tenantId: 'x\u0000y' }, sort: { field: 'id', direction: 'asc' } });
      expect(page.items.map((e) => [e.type, e.tenantId])).toEqual([
        ['t.a', 'x\ufffdy'],
        ['t.b', 'x\ufffdy'],
      ]);
      expect(await own.count({ tenantId: ['x\ufffdy'] })).toBe(2);
      const reseller = own.view({ principal: { role: 'reseller', id: 'r', tenantIds: ['x\u0000y'] } });
      expect(await reseller.count()).toBe(2);
      await reseller.record({ type: 't.d', tenantId: 'x\ufffdy' });
      expect(await own.count({ tenantId: 'x\u0000y' })).toBe(3);
    } finally {
      await own.close();
    }
  });
});
