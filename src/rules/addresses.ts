import ipaddr from 'ipaddr.js';

/**
 * Which addresses deliveries may reach: loopback, private, link-local (cloud metadata), CGNAT, multicast and other special ranges only
 * when an allow-list CIDR covers them; judged on the resolved address, so a host name cannot smuggle one in.
 */
export class AddressGuard {
  private readonly allowed: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  constructor(allowList: string[]) {
    this.allowed = allowList.map((cidr) => ipaddr.parseCIDR(cidr));
  }

  /** Why an address is refused, or null when it may be reached. */
  refusal(address: string): string | null {
    const ip = embeddedIPv4(ipaddr.parse(address));
    if (this.allowed.some(([range, bits]) => range.kind() === ip.kind() && ip.match(range, bits))) return null;
    const range = ip.range();
    if (range === 'unicast') return null;
    return `${address} is a ${range} address; deliveries to it are refused (allow it with HERALD_OUTBOUND_ALLOW)`;
  }
}

/**
 * The IPv4 address an IPv6 one carries as its last 32 bits, judged as that address:
 * IPv4-mapped (`::ffff:127.0.0.1`) and IPv4-compatible (`::/96`, `::7f00:1`), which
 * some stacks still route to the IPv4 address. `::` and `::1` stay themselves.
 */
function embeddedIPv4(ip: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (ip.kind() !== 'ipv6') return ip;
  const v6 = ip as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
  const [a, b, c, d, e, f, g, h] = v6.parts as [number, number, number, number, number, number, number, number];
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0 && !(g === 0 && h <= 1)) return new ipaddr.IPv4([g >> 8, g & 0xff, h >> 8, h & 0xff]);
  return ip;
}

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKED';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

export function isValidCidr(value: string): boolean {
  try {
    ipaddr.parseCIDR(value);
    return true;
  } catch {
    return false;
  }
}
