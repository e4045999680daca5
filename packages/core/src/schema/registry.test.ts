import { describe, expect, it } from 'vitest';
import { httpRequestsPreset } from '../presets/http-requests.js';
import { definePreset } from './preset.js';
import { createRegistry } from './registry.js';

describe('rollup tables in the store schema', () => {
  it('asks for a table per marked dimension and per marked envelope field', () => {
    const registry = createRegistry({
      dimensions: [{ name: 'model', rollup: true }, { name: 'channel' }],
      metrics: [{ name: 'quota' }],
      rollupFields: ['ip'],
    });
    expect(registry.storeSchema.rollups).toEqual({ dimensions: ['model', 'ip'], metrics: ['quota'] });
    expect([...registry.rollupFields]).toEqual(['ip']);
  });

  it('merges the fields of presets and options once', () => {
    const a = definePreset({ name: 'a', types: [], rollupFields: ['ip'] });
    const b = definePreset({ name: 'b', types: [] });
    const registry = createRegistry({ presets: [a, b], rollupFields: ['ip'] });
    expect(registry.storeSchema.rollups?.dimensions).toEqual(['ip']);
    expect(createRegistry({ presets: [b] }).storeSchema.rollups?.dimensions).toEqual([]);
  });

  it('rejects a field that cannot be rolled up, naming where it came from', () => {
    const bad = definePreset({ name: 'bad', types: [], rollupFields: ['userAgent' as 'ip'] });
    expect(() => createRegistry({ presets: [bad] })).toThrow(/rollupFields \(in "bad"\) names "userAgent"; only ip can be rolled up/);
    expect(() => createRegistry({ rollupFields: ['tenantId' as 'ip'] })).toThrow(/in "options"/);
  });

  it('the HTTP-requests preset rolls up method, destination, host, status_code, destination_is_ip and ip', () => {
    const registry = createRegistry({ presets: [httpRequestsPreset] });
    expect(registry.storeSchema.rollups?.dimensions).toEqual(['method', 'destination', 'host', 'status_code', 'destination_is_ip', 'ip']);
  });
});
