import { describe, expect, it } from 'vitest';
import { maskIp } from './mask-ip.js';

describe('maskIp', () => {
  it.each([
    ['203.0.113.45', '203.0.113.0'],
    ['10.0.0.1', '10.0.0.0'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:db8:85a3::'],
    ['2001:0db8:0000::1', '2001:db8:0::'],
    ['::1', '0:0:0::'],
    ['fe80::1%eth0', 'fe80:0:0::'],
    ['::ffff:192.0.2.128', '::ffff:192.0.2.0'],
  ])('masks %s as %s', (input, expected) => {
    expect(maskIp(input)).toBe(expected);
  });

  it('never leaks what it cannot parse', () => {
    expect(maskIp('not an ip')).toBeNull();
    expect(maskIp('203.0.113.45:8080')).toBeNull();
    expect(maskIp(null)).toBeNull();
    expect(maskIp('')).toBe('');
  });
});
