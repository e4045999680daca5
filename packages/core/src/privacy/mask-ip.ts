import { isIPv4, isIPv6 } from 'node:net';

/**
 * Masks an IP address for privacy: IPv4 keeps its first three octets (`203.0.113.0`), IPv6 its
 * first 48 bits (`2001:db8:85a3::`). Anything else is returned as `null` rather than leaked.
 *
 * @example
 * ```ts
 * import { maskIp } from '@eventlog/core';
 * maskIp('203.0.113.45'); // '203.0.113.0'
 * ```
 */
export function maskIp(ip: string | null): string | null {
  if (ip === null || ip === '') return ip;
  if (isIPv4(ip)) return ip.replace(/\.\d+$/, '.0');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] && isIPv4(mapped[1])) return `::ffff:${mapped[1].replace(/\.\d+$/, '.0')}`;
  if (isIPv6(ip)) {
    const groups = expandIPv6(ip.split('%')[0] ?? ip);
    return `${groups
      .slice(0, 3)
      .map((g) => g.replace(/^0+(?=.)/, ''))
      .join(':')}::`;
  }
  return null;
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  if (tail === undefined) return left;
  const missing = 8 - left.length - right.length;
  return [...left, ...Array.from({ length: missing }, () => '0'), ...right];
}
