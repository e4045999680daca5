import { isIPv4, isIPv6 } from 'node:net';

/** How many leading bits of an address survive masking at write time. */
export interface IpMaskOptions {
  /** Bits kept of an IPv4 address (0–32); `24` turns `203.0.113.45` into `203.0.113.0`. @default 24 */
  ipv4Prefix?: number;
  /** Bits kept of an IPv6 address (0–128); `48` turns `2001:db8:85a3:8d3::1` into `2001:db8:85a3::`. @default 48 */
  ipv6Prefix?: number;
}

/** The prefix lengths used when masking at write time names none: /24 for IPv4, /48 for IPv6. */
export const DEFAULT_IP_MASK: Readonly<Required<IpMaskOptions>> = Object.freeze({ ipv4Prefix: 24, ipv6Prefix: 48 });

/**
 * Checks prefix lengths and fills in the defaults; a length out of range is a `TypeError`, because
 * a typo here would silently store more of an address than intended. @internal
 */
export function resolveIpMask(options: IpMaskOptions | true, path = 'privacy.maskIp'): Required<IpMaskOptions> {
  const given = options === true ? {} : options;
  const ipv4Prefix = given.ipv4Prefix ?? DEFAULT_IP_MASK.ipv4Prefix;
  const ipv6Prefix = given.ipv6Prefix ?? DEFAULT_IP_MASK.ipv6Prefix;
  if (!Number.isInteger(ipv4Prefix) || ipv4Prefix < 0 || ipv4Prefix > 32) {
    throw new TypeError(`${path}.ipv4Prefix must be a whole number from 0 to 32.`);
  }
  if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 0 || ipv6Prefix > 128) {
    throw new TypeError(`${path}.ipv6Prefix must be a whole number from 0 to 128.`);
  }
  return { ipv4Prefix, ipv6Prefix };
}

/**
 * Masks an IP address to a network prefix: every bit after the first `ipv4Prefix` (IPv4) or
 * `ipv6Prefix` (IPv6) bits is zeroed. IPv4-mapped IPv6 addresses (`::ffff:203.0.113.45`) are
 * masked as IPv4, IPv6 zone ids are dropped, and the IPv6 result is written in its canonical short
 * form. Anything that is not an IP address becomes `null` rather than being kept.
 *
 * @example
 * ```ts
 * import { maskIpPrefix } from '@eventlog/core';
 * maskIpPrefix('203.0.113.45', { ipv4Prefix: 16 }); // '203.0.0.0'
 * maskIpPrefix('2001:db8:85a3:8d3::1', { ipv6Prefix: 32 }); // '2001:db8::'
 * ```
 */
export function maskIpPrefix(ip: string | null, options: IpMaskOptions = {}): string | null {
  if (ip === null || ip === '') return ip;
  const { ipv4Prefix, ipv6Prefix } = resolveIpMask(options, 'maskIpPrefix');
  return maskWith(ip, ipv4Prefix, ipv6Prefix);
}

/** {@link maskIpPrefix} with lengths already checked. @internal */
export function maskWith(ip: string, ipv4Prefix: number, ipv6Prefix: number): string | null {
  if (isIPv4(ip)) return maskV4(ip, ipv4Prefix);
  const bare = ip.split('%')[0] ?? ip;
  if (!isIPv6(ip) || !isIPv6(bare)) return null;
  const groups = parseV6(bare);
  if (groups === null) return null;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const v4 = `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
    return `::ffff:${maskV4(v4, ipv4Prefix)}`;
  }
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, ipv6Prefix - i * 16));
    groups[i] = groups[i]! & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff);
  }
  return formatV6(groups);
}

function maskV4(ip: string, prefix: number): string {
  const octets = ip.split('.').map(Number);
  return octets
    .map((octet, i) => {
      const keep = Math.max(0, Math.min(8, prefix - i * 8));
      return octet & (keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff);
    })
    .join('.');
}

/** Eight 16-bit groups of a valid IPv6 address (an embedded IPv4 tail included). */
function parseV6(ip: string): number[] | null {
  const [head = '', tail] = ip.split('::');
  const toGroups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((piece) => {
          if (!piece.includes('.')) return [Number.parseInt(piece, 16)];
          const o = piece.split('.').map(Number);
          return [(o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!];
        });
  const left = toGroups(head);
  const right = tail === undefined ? [] : toGroups(tail);
  const missing = 8 - left.length - right.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
function formatV6(groups: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
