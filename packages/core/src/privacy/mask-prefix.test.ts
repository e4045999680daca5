import { describe, expect, it } from 'vitest';
import { maskIpPrefix } from './mask-prefix.js';

describe('maskIpPrefix', () => {
  it.each([
    ['203.0.113.45', {}, '203.0.113.0'],
    ['203.0.113.45', { ipv4Prefix: 16 }, '203.0.0.0'],
    ['203.0.113.45', { ipv4Prefix: 20 }, '203.0.112.0'],
    ['203.0.113.45', { ipv4Prefix: 32 }, '203.0.113.45'],
    ['203.0.113.45', { ipv4Prefix: 0 }, '0.0.0.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', {}, '2001:db8:85a3::'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', { ipv6Prefix: 64 }, '2001:db8:85a3:8d3::'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', { ipv6Prefix: 56 }, '2001:db8:85a3:800::'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', { ipv6Prefix: 128 }, '2001:db8:85a3:8d3:1319:8a2e:370:7348'],
    ['2001:0DB8:0000:0000:0001::1', { ipv6Prefix: 80 }, '2001:db8:0:0:1::'], // the longer zero run is the one compressed,
    ['fe80::1%eth0', {}, 'fe80::'],
    ['::1', {}, '::'],
    ['::ffff:192.0.2.128', {}, '::ffff:192.0.2.0'],
    ['::ffff:192.0.2.128', { ipv4Prefix: 8 }, '::ffff:192.0.0.0'],
    ['64:ff9b::192.0.2.33', { ipv6Prefix: 96 }, '64:ff9b::'],
  ])('masks %s with %o as %s', (input, options, expected) => {
    expect(maskIpPrefix(input, options)).toBe(expected);
  });

  it('stores nothing it cannot parse', () => {
    expect(maskIpPrefix('not an ip')).toBeNull();
    expect(maskIpPrefix('203.0.113.45:8080')).toBeNull();
    expect(maskIpPrefix('1.5')).toBeNull();
    expect(maskIpPrefix(null)).toBeNull();
    expect(maskIpPrefix('')).toBe('');
  });

  it('refuses prefix lengths out of range', () => {
    expect(() => maskIpPrefix('10.0.0.1', { ipv4Prefix: 33 })).toThrow(/ipv4Prefix must be a whole number from 0 to 32/);
    expect(() => maskIpPrefix('10.0.0.1', { ipv6Prefix: -1 })).toThrow(/ipv6Prefix must be a whole number from 0 to 128/);
    expect(() => maskIpPrefix('10.0.0.1', { ipv4Prefix: 1.5 })).toThrow(TypeError);
  });
});
